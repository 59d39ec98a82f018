// docker-compose.yml checked offline: the Compose file as `docker-compose config` validates
// it (Debian's docker-compose; .ci/run installs it), and what the schema cannot know: every
// podgate command is one the CLI accepts (its own flag parsing: an unknown flag or a bad value
// fails), the files it mounts exist and load, and each service waits for what it needs.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkCommandLine, EXIT, main } from '@podgate/cli';
import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { proxyEntrypoint } from './dockerfile.js';

const root = new URL('../..', import.meta.url).pathname;
const file = join(root, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: { dockerfile?: string };
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  cap_drop?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const podgate = services.filter(([, s]) => s.image === 'podgate:dev');
const composeBinary = (() => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** `./examples/pods.yaml:/etc/podgate/pods.yaml:ro` -> [host path in the repository, container path]. */
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    const [host = '', container = ''] = v.split(':');
    return { host: host.replace(/^\.\//, ''), container };
  });

describe('docker-compose.yml', () => {
  it.runIf(composeBinary || process.env.CI)('is a valid Compose file (docker-compose config)', async () => {
    expect(
      composeBinary,
      'docker-compose is missing: .ci/run installs it (apt-get install docker-compose)',
    ).toBe(true);
    const run = promisify(execFile);
    await expect(
      run('docker-compose', ['-f', file, 'config', '--quiet'], { cwd: root }),
    ).resolves.toBeDefined();
  });

  it('runs the proxy through the image’s entrypoint with Maglev off, the others as the image does', () => {
    const entry = proxyEntrypoint(readFileSync(join(root, 'infra/docker/Dockerfile'), 'utf8'));
    const entrypoints = Object.fromEntries(podgate.map(([name, s]) => [name, s.entrypoint]));
    expect(entrypoints).toEqual({ watcher: undefined, decision: undefined, proxy: entry });
  });

  it('runs Redis, the watcher, two decision replicas, the proxy and an upstream, podgate ones from the Dockerfile', () => {
    const commands = Object.fromEntries(podgate.map(([name, s]) => [name, (s.command as string[])[0]]));
    expect(commands).toEqual({ watcher: 'watcher', decision: 'decision', proxy: 'proxy' });
    expect(compose.services.decision?.deploy?.replicas).toBe(2);
    expect(Object.keys(compose.services).sort()).toEqual([
      'decision',
      'proxy',
      'redis',
      'upstream',
      'watcher',
    ]);
    for (const [name, s] of podgate) expect(s.build?.dockerfile, name).toBe('infra/docker/Dockerfile');
  });

  it.each(podgate)('%s: its command is one podgate accepts, with its environment', (_name, s) => {
    expect(Array.isArray(s.command), 'exec form').toBe(true);
    expect(checkCommandLine(s.command as string[], s.environment ?? {})).toMatchObject({ ok: true });
  });

  it('the watcher reads the example pods file (pods-file mode)', () => {
    const watcher = compose.services.watcher!;
    const args = watcher.command as string[];
    const podsFile = args[args.indexOf('--pods-file') + 1];
    expect(mounts(watcher)).toContainEqual({ host: 'examples/pods.yaml', container: podsFile });
  });

  it('every file a command names is mounted, exists, and every --config loads', async () => {
    for (const [name, s] of podgate) {
      const args = s.command as string[];
      const named = args.filter((_, i) =>
        ['--config', '--pods-file', '--token-file'].includes(args[i - 1] ?? ''),
      );
      for (const path of named) {
        const mount = mounts(s).find((m) => m.container === path);
        expect(mount, `${name}: ${path} is not mounted`).toBeDefined();
        expect(existsSync(join(root, mount!.host)), `${name}: ${mount!.host}`).toBe(true);
        if (args[args.indexOf(path) - 1] === '--config') {
          const { io, captured } = captureIo();
          expect(await main(['validate', join(root, mount!.host)], io), captured.stderr).toBe(EXIT.ok);
        }
      }
    }
  });

  it('health checks everywhere; each service waits until what it depends on is healthy', () => {
    for (const [name, s] of services) {
      expect(s.healthcheck?.test, name).toBeDefined();
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services[dependency], `${name} -> ${dependency}`).toBeDefined();
        expect(condition, `${name} -> ${dependency}`).toBe('service_healthy');
      }
    }
    const script = compose.services.proxy!.healthcheck!.test.at(-1)!;
    expect(existsSync(join(root, script.replace(/^\/app\//, '')))).toBe(true);
  });

  it('podgate containers run with a read-only root filesystem and no capabilities', () => {
    for (const [name, s] of podgate) {
      expect(s.read_only, name).toBe(true);
      expect(s.cap_drop, name).toEqual(['ALL']);
    }
  });

  it("publishes the proxy's gated endpoint port", () => {
    const published = (compose.services.proxy!.ports ?? []).map((p) => p.split(':').at(-1));
    expect(published).toContain('8080');
  });
});
