// What a new user meets first: `podgate --version`, one exit convention for every command
// (2 for usage: flags and environment wrong in themselves; 1 for run-time failures: files,
// stores, ports), a watcher with no pod source, an empty configuration, and a cluster name
// no watcher ever wrote.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@podgate/cli';
import { createRedisIdentityStore, derivePodRecord } from '@podgate/identity';
import { captureIo, type RedisServer, startRedis } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin/podgate');
const config = join(root, 'examples/podgate.yaml');
const pods = join(root, 'examples/pods.yaml');

// Made at load: the table below names these paths when the tests are collected.
const dir = mkdtempSync(join(tmpdir(), 'podgate-usage-'));
const broken = join(dir, 'broken-pods.yaml');
const empty = join(dir, 'empty.yaml');

beforeAll(async () => {
  await writeFile(broken, 'apiVersion: v1\nkind: List\nitems:\n  - [unclosed\n');
  await writeFile(empty, '');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exitOf(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const { io, captured, stop } = captureIo();
  // A command that unexpectedly starts serving is stopped, so the test fails instead of hanging.
  const timer = setTimeout(() => stop('SIGTERM'), 15_000);
  const code = await main(argv, io);
  clearTimeout(timer);
  return { code, ...captured };
}

describe('podgate --version', () => {
  it.each([['--version'], ['version'], ['-V']])('%s prints the version of packages/cli', async (flag) => {
    const { version } = JSON.parse(await readFile(join(root, 'packages/cli/package.json'), 'utf8'));
    expect(await exitOf([flag])).toMatchObject({ code: 0, stdout: `podgate ${version}\n`, stderr: '' });
  });
});

describe('one exit convention: 2 for usage, 1 for run-time failures', () => {
  const listen = ['--listen', '127.0.0.1:0'];
  it.each([
    // usage: missing or malformed flags, found before anything is read
    ['watcher', [], 2, /--cluster \(or PODGATE_CLUSTER\) is required/],
    ['watcher', ['--cluster', 'c', '--heartbeat-ttl', 'forever', '--pods-file', pods], 2, /--heartbeat-ttl/],
    ['decision', [], 2, /--config FILE is required/],
    ['decision', ['--config', config, '--token-file', 't', '--lookup-timeout', 'x'], 2, /--lookup-timeout/],
    ['proxy', [], 2, /--config FILE is required/],
    ['dev', ['--refresh', 'abc'], 2, /--refresh: expected a duration/],
    ['dev', ['--refresh', '0'], 2, /--refresh: expected a duration/],
    ['dev', ['--cluster', 'bad name!'], 2, /--cluster/],
    ['validate', [], 2, /at least one FILE/],
    ['eval', [], 2, /--config FILE is required/],
    ['eval', ['--config', config, '--pods-file', pods, '--client-ip', '1.2.3'], 2, /--client-ip/],
    ['eval', ['--config', config, '--redis', 'http://x', '--client-ip', '127.0.0.2'], 2, /--redis: expected/],
    // run time: what files say, what can be reached
    [
      'watcher',
      ['--cluster', 'c', '--pods-file', broken, ...listen],
      1,
      /--pods-file: .*broken-pods\.yaml:\d+:\d+/,
    ],
    [
      'watcher',
      ['--cluster', 'c', '--kubeconfig', join(root, 'missing'), ...listen],
      1,
      /cannot load kubeconfig/,
    ],
    [
      'decision',
      ['--config', join(root, 'missing.yaml'), '--insecure-no-auth', ...listen],
      1,
      /missing\.yaml/,
    ],
    ['proxy', ['--config', join(root, 'missing.yaml'), ...listen], 1, /missing\.yaml/],
    ['dev', ['--pods-file', broken, '--config', config], 1, /--pods-file: .*broken-pods\.yaml/],
    ['validate', [broken], 1, /broken-pods\.yaml:\d+:\d+: error/],
    [
      'eval',
      ['--config', config, '--pods-file', pods, '--client-ip', '127.0.0.2', '--endpoint', 'tcp://no.such:1'],
      1,
      /no endpoint with url/,
    ],
  ] as const)('podgate %s %j exits %i', async (command, args, code, message) => {
    const result = await exitOf([command, ...args]);
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({
      code,
      stderr: expect.stringMatching(message),
    });
    expect(result.stderr).not.toContain('    at ');
  });

  it('the watcher with no pod source at all says what it looked for, and exits 2', async () => {
    // A real process, with a home of its own: whatever ~/.kube/config this machine has is not read.
    const env = { PATH: process.env.PATH ?? '', HOME: dir };
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        bin,
        ['watcher', '--cluster', 'laptop', '--listen', '127.0.0.1:0'],
        { env, timeout: 60_000 },
        (error, _out, err) => resolve({ code: (error as { code?: number } | null)?.code ?? 0, stderr: err }),
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/^podgate watcher: no pod source: give --pods-file FILE/);
    expect(stderr).toContain('KUBERNETES_SERVICE_HOST is not set');
    expect(stderr).toContain('KUBECONFIG (not set)');
    expect(stderr).toContain(`${dir}/.kube/config (not found)`);
    expect(stderr).not.toMatch(/skipTLSVerify|^\{/m);
  }, 90_000);
});

describe('podgate validate', () => {
  it('warns about an empty configuration file, with its name', async () => {
    const result = await exitOf(['validate', empty]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `${empty}:1:1: warning: no endpoints and no traffic policies in this file (is it empty?)\n`,
    );
    const together = await exitOf(['validate', config]);
    expect(together.stderr).toBe('');
  });
});

describe('a cluster name no watcher ever wrote', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
    const writer = await createRedisIdentityStore({ url: redis.url });
    await writer.claim(
      'dev',
      derivePodRecord({
        metadata: { name: 'frontend', namespace: 'web', uid: 'u-1', resourceVersion: '1' },
        status: { phase: 'Running', podIP: '127.0.0.4' },
      }),
    );
    await writer.heartbeat('dev', 60_000);
    await writer.close();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("eval's lookup says so, instead of a heartbeat that came late", async () => {
    const args = [
      'eval',
      '--config',
      config,
      '--redis',
      redis.url,
      '--endpoint',
      'tcp://ledger.payments:5432',
      '--client-ip',
      '127.0.0.4',
    ];
    const typo = await exitOf(args); // eval consults cluster `default`; the watcher wrote `dev`
    expect(typo.code).toBe(0);
    const decision = JSON.parse(typo.stdout);
    expect(decision.lookup).toMatchObject({ found: false, reason: 'stale_cluster' });
    expect(decision.lookup.message).toContain('no watcher has ever written cluster default');
    expect(decision.lookup.message).not.toContain('heartbeat in time');
    const right = JSON.parse((await exitOf([...args, '--cluster', 'dev'])).stdout);
    expect(right).toMatchObject({ lookup: { found: true }, identity: { cluster: 'dev' } });
  });
});

describe('a store that cannot be opened, at the start of every command that reads or writes it', () => {
  let redis: RedisServer;
  let refusedUrl: string;
  beforeAll(async () => {
    redis = await startRedis({ password: 'sesame' });
    const gone = await startRedis();
    refusedUrl = gone.url;
    await gone.stop();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const commands = {
    watcher: ['watcher', '--cluster', 'c', '--pods-file', pods, '--listen', '127.0.0.1:0'],
    eval: [
      'eval',
      '--config',
      config,
      '--endpoint',
      'tcp://ledger.payments:5432',
      '--client-ip',
      '127.0.0.2',
    ],
    proxy: ['proxy', '--config', config, '--listen', '127.0.0.1:0'],
    decision: ['decision', '--config', config, '--insecure-no-auth', '--listen', '127.0.0.1:0'],
  };
  it.each(Object.keys(commands))('podgate %s names the address and why, and exits 1', async (name) => {
    const argv = commands[name as keyof typeof commands];
    const address = (url: string) => new URL(url).host.replace(/^.*@/, '');
    const refused = await exitOf([...argv, '--redis', refusedUrl]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^podgate ${name}: .*cannot connect to Redis at ${address(refusedUrl)}: connection refused`,
        'm',
      ),
    );
    const withoutPassword = `redis://127.0.0.1:${redis.port}`;
    const noAuth = await exitOf([...argv, '--redis', withoutPassword]);
    expect(noAuth.code).toBe(1);
    expect(noAuth.stderr).toMatch(
      new RegExp(`cannot connect to Redis at ${address(withoutPassword)}: authentication failed`),
    );
    expect(`${refused.stderr}${noAuth.stderr}`).not.toMatch(/Connection is closed/);
  });
});
