// The production build (docs/adr/0008): every workspace package but test support compiles
// into its own dist/ (tsc -b from the CLI's build configuration), exports it by default and
// its sources under the podgate-source condition, and compiles no test code.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
const bin = join(root, 'packages/cli/bin/podgate.js');

const workspaces = ['packages', 'services'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => {
    const dir = `${group}/${name}`;
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    return { dir, manifest, name: manifest.name as string };
  }),
);
const built = workspaces.filter((w) => w.name !== '@podgate/test-support');
const dirOf = new Map(workspaces.map((w) => [w.name, w.dir]));
const buildConfig = (dir: string) => JSON.parse(readFileSync(join(root, dir, 'tsconfig.build.json'), 'utf8'));
/** A workspace's references, as the workspaces they name. */
const references = (dir: string): string[] =>
  (buildConfig(dir).references ?? []).map((r: { path: string }) =>
    join(dir, r.path).replace(/\/tsconfig\.build\.json$/, ''),
  );

describe('the production build', () => {
  it.each(built.map((w) => [w.name, w] as const))(
    '%s exports dist/ by default and src/ under podgate-source',
    (_name, w) => {
      const exports = w.manifest.exports['.'];
      expect(Object.keys(exports)[0]).toBe('podgate-source');
      expect(exports['podgate-source']).toBe('./src/index.ts');
      expect(exports.default).toBe('./dist/index.js');
      expect(w.manifest.files).toContain('dist');
    },
  );

  it.each(built.map((w) => [w.name, w] as const))(
    '%s references exactly the workspace packages it depends on (tsc -b builds them first)',
    (_name, w) => {
      const deps = Object.keys(w.manifest.dependencies ?? {})
        .filter((d) => dirOf.has(d))
        .map((d) => dirOf.get(d)!);
      expect(references(w.dir).sort()).toEqual(deps.sort());
    },
  );

  it("the CLI's build reaches every built package", () => {
    const seen = new Set<string>();
    const visit = (dir: string) => {
      if (seen.has(dir)) return;
      seen.add(dir);
      for (const r of references(dir)) visit(r);
    };
    visit('packages/cli');
    expect([...seen].sort()).toEqual(built.map((w) => w.dir).sort());
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.build).toBe(
      'tsc -b packages/cli/tsconfig.build.json',
    );
  });

  it('compiles no test code', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const testCode: string[] = [];
    for (const w of built) {
      const shown = JSON.parse(
        execFileSync(
          process.execPath,
          [tsc, '-p', join(root, w.dir, 'tsconfig.build.json'), '--showConfig'],
          {
            encoding: 'utf8',
          },
        ),
      ) as { files: string[] };
      expect(shown.files.length, w.dir).toBeGreaterThan(0);
      for (const file of shown.files) {
        const text = readFileSync(join(root, w.dir, file), 'utf8');
        if (/from ['"](vitest|@podgate\/test-support|fast-check)['"]/.test(text))
          testCode.push(`${w.dir}/${file}`);
      }
    }
    expect(testCode).toEqual([]);
  });

  it('the bin refuses a PODGATE_RUN it does not know', async () => {
    const error = await run(process.execPath, [bin, '--help'], {
      env: { ...process.env, PODGATE_RUN: 'fast' },
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain("PODGATE_RUN must be 'build' or 'source', not 'fast'");
  });

  // CI builds before it tests; a developer's checkout may have no build.
  it.runIf(existsSync(join(root, 'packages/cli/dist/index.js')) || process.env.CI)(
    'the compiled CLI runs without tsx or the sources',
    async () => {
      // No NODE_OPTIONS: the tests' podgate-source condition must not reach it.
      const { stdout } = await run(process.execPath, [bin, 'validate', 'examples/podgate.yaml'], {
        cwd: root,
        env: { PATH: process.env.PATH, PODGATE_RUN: 'build' },
      });
      expect(stdout).toMatch(/examples\/podgate\.yaml: ok/);
    },
  );
});
