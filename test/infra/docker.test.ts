// infra/docker/Dockerfile checked offline (there is no Docker engine or builder where tests
// run): its stages and base image, that everything it copies from the context exists and is
// not excluded by .dockerignore, that it runs as a non-root user, and that its entry point is
// the podgate bin running a command podgate accepts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, main } from '@podgate/cli';
import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import {
  copyParts,
  execForm,
  healthcheckCommand,
  ignorePattern,
  parseDockerfile,
  stages,
} from './dockerfile.js';

const root = new URL('../..', import.meta.url).pathname;
const instructions = parseDockerfile(readFileSync(join(root, 'infra/docker/Dockerfile'), 'utf8'));
const all = stages(instructions);
const runtime = all.at(-1)!;
const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'))
  .map(ignorePattern);
const isIgnored = (path: string) =>
  ignored.some((re) => re.test(path.replace(/^\.\//, '').replace(/\/$/, '')));

const one = (stage: (typeof all)[number], keyword: string) => {
  const found = stage.instructions.filter((i) => i.keyword === keyword);
  expect(found, `${keyword} in the last stage`).toHaveLength(1);
  return found[0]!;
};
/** A path in the image under /app to the repository file it comes from (the runtime tree keeps the layout). */
const fromApp = (path: string) => path.replace(/^\/app\//, '');

describe('infra/docker/Dockerfile', () => {
  it('builds in one stage and runs in another, both on the current Node.js LTS (24), slim', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.image).toMatch(/^node:24(\.\d+)*-(bookworm|trixie)-slim$/);
    expect(all[0]!.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args))).toBe(true);
  });

  it('copies only what exists in the build context and is not excluded by .dockerignore', () => {
    const names = all.map((s) => s.name).filter(Boolean);
    const problems: string[] = [];
    for (const stage of all) {
      for (const i of stage.instructions.filter((x) => x.keyword === 'COPY' || x.keyword === 'ADD')) {
        const { flags, sources } = copyParts(i.args);
        const from = flags.get('from');
        if (from !== undefined) {
          if (!names.includes(from)) problems.push(`line ${i.line}: --from=${from} is no earlier stage`);
          continue;
        }
        for (const source of sources) {
          if (!existsSync(join(root, source))) problems.push(`line ${i.line}: ${source} does not exist`);
          else if (isIgnored(source)) problems.push(`line ${i.line}: ${source} is excluded by .dockerignore`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('copies every TypeScript configuration the build extends', () => {
    const copied = new Set(
      all[0]!.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyParts(i.args).sources),
    );
    const needed = new Set<string>();
    const workspaces = ['packages', 'services'].flatMap((group) =>
      readdirSync(join(root, group)).map((name) => `${group}/${name}/tsconfig.build.json`),
    );
    for (let config of workspaces.filter((f) => existsSync(join(root, f)))) {
      for (;;) {
        const extended: string | undefined = JSON.parse(readFileSync(join(root, config), 'utf8')).extends;
        if (extended === undefined) break;
        config = join(config, '..', extended);
        if (!config.includes('/')) needed.add(config);
      }
    }
    expect([...needed].sort()).toEqual(['tsconfig.build-base.json', 'tsconfig.json']);
    for (const file of needed) expect(copied, file).toContain(file);
    expect(copied).toContain('packages');
    expect(copied).toContain('services');
  });

  it('keeps the context small: dependencies, build output and git are excluded', () => {
    for (const path of ['node_modules', 'packages/cli/node_modules', 'packages/cli/dist', '.git']) {
      expect(isIgnored(path), path).toBe(true);
    }
  });

  it('runs as a numeric non-root user, so Kubernetes can check runAsNonRoot', () => {
    expect(one(runtime, 'USER').args).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
  });

  it('enters through the podgate bin, and its default command is one podgate accepts', async () => {
    const entry = execForm(one(runtime, 'ENTRYPOINT').args);
    expect(entry?.[0]).toBe('node');
    expect(entry?.[1]).toBe('/app/packages/cli/bin/podgate.js');
    expect(existsSync(join(root, fromApp(entry![1]!)))).toBe(true);
    const cmd = execForm(one(runtime, 'CMD').args)!;
    const { io } = captureIo();
    expect(await main(cmd, io)).toBe(EXIT.ok);
  });

  it('runs the compiled JavaScript, and probes the service it runs', () => {
    expect(one(runtime, 'ENV').args).toMatch(/PODGATE_RUN=build/);
    const probe = healthcheckCommand(one(runtime, 'HEALTHCHECK').args);
    expect(probe?.[0]).toBe('node');
    expect(existsSync(join(root, fromApp(probe![1]!)))).toBe(true);
  });
});

describe('.dockerignore patterns', () => {
  it.each([
    ['**/node_modules', 'node_modules', true],
    ['**/node_modules', 'packages/cli/node_modules/x', true],
    ['**/dist', 'services/proxy/dist/index.js', true],
    ['.git', '.git/HEAD', true],
    ['docs', 'docs/deploy.md', true],
    ['docs', 'packages/docs', false],
    ['**/*.log', 'a/b.log', true],
    ['infra', 'infrastructure', false],
  ])('%s vs %s: %s', (pattern, path, expected) => {
    expect(ignorePattern(pattern).test(path)).toBe(expected);
  });
});
