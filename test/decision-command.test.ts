// `podgate decision` as a real process, as an operator runs it: JSON log lines on stdout, a
// reload on SIGHUP and on a changed file (policies and tokens), a bad reload that keeps the
// last good configuration, and SIGTERM that drains and exits 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IdentityStore } from '@podgate/identity';
import { type RedisServer, startRedis, waitFor } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  CLUSTER,
  EXAMPLE_CONFIG,
  httpRequest,
  seedRedis,
  TOKEN,
  tempFiles,
  UNHURRIED_LOOKUPS,
} from './decision-support.js';

const bin = new URL('../packages/cli/bin/podgate.js', import.meta.url).pathname;
const files = tempFiles('decision-command-');
let redis: RedisServer;
let writer: IdentityStore;

beforeAll(async () => {
  redis = await startRedis();
  writer = await seedRedis(redis.url, 'cmd:');
});
afterAll(async () => {
  await writer?.close();
  await redis?.stop();
});

interface Process {
  child: ChildProcess;
  lines(): Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  port: number;
}

async function spawnDecision(args: string[], nodeFlags: string[] = []): Promise<Process> {
  const child = spawn(process.execPath, [...nodeFlags, bin, 'decision', ...args], {
    env: { ...process.env, REDIS_URL: redis.url, PODGATE_CLUSTER: CLUSTER, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  // 'close', not 'exit': the child's last lines may still be in the pipe when 'exit' comes.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const serving = await waitFor(
    `podgate decision serving (stderr: ${err})`,
    () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
      return lines().find((l) => String(l.msg).startsWith('serving /v1'));
    },
    20_000,
  );
  const port = Number(String(serving.listen).split(':').at(-1));
  return { child, lines, exited, port };
}

/** Serving the example configuration without tokens, on a port of its own. */
const OPEN = [
  '--config',
  EXAMPLE_CONFIG,
  '--insecure-no-auth',
  '--key-prefix',
  'cmd:',
  '--listen',
  '127.0.0.1:0',
];

const ledger = (port: number, token = TOKEN) =>
  httpRequest({
    port,
    path: '/v1/decisions',
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: 'tcp://ledger.payments:5432', client_ip: '127.0.0.3' }),
  });

describe('podgate decision (a real process)', () => {
  it('reloads on SIGHUP and on changed files, keeps the last good configuration, and exits 0 on SIGTERM', async () => {
    const config = files.write('podgate.yaml', readFileSync(EXAMPLE_CONFIG, 'utf8'));
    const tokens = files.write('tokens', `${TOKEN}\n`);
    const p = await spawnDecision([
      ...['--config', config, '--token-file', tokens, '--key-prefix', 'cmd:', '--listen', '127.0.0.1:0'],
      ...UNHURRIED_LOOKUPS,
    ]);
    try {
      expect(p.lines()[0]).toMatchObject({ service: 'podgate-decision', msg: 'configuration loaded' });
      const before = await ledger(p.port);
      expect(before.json()).toMatchObject({ allowed: false, identity: { metadata: { namespace: 'web' } } });
      // The log line and the answer travel apart (stdout, the socket): wait for the line.
      const logged = await waitFor('the decision logged', () => p.lines().find((l) => l.msg === 'decision'));
      expect(logged).toMatchObject({
        level: 30,
        verdict: 'deny',
        route: 'decisions',
      });

      // A policy that lets every namespace in, then SIGHUP.
      const lenient = readFileSync(EXAMPLE_CONFIG, 'utf8').replace(
        'conn.k8s.pod.metadata.namespace != "payments"',
        'conn.k8s.pod.metadata.namespace == "nobody"',
      );
      writeFileSync(config, lenient);
      p.child.kill('SIGHUP');
      await waitFor('reloaded', async () => (await ledger(p.port)).json().allowed === true);
      await waitFor('the reload logged', () =>
        p.lines().find((l) => l.msg === 'configuration reloaded' && l.trigger === 'SIGHUP'),
      );

      // A broken file: refused, the last good configuration stays, the reason is logged.
      writeFileSync(config, 'kind: CloudEndpoint\nspec: {url: 7}\n');
      p.child.kill('SIGHUP');
      await waitFor('refused', () =>
        p.lines().some((l) => String(l.msg).startsWith('configuration reload refused')),
      );
      expect((await ledger(p.port)).json().allowed).toBe(true);

      // The files, rewritten (the configuration good again): noticed without a signal (polling).
      // Policies and tokens are one reload: while a policy file is bad, a new token waits too.
      writeFileSync(config, lenient);
      writeFileSync(tokens, 'rotated-token-0123456789\n');
      await waitFor(
        'new token',
        async () => (await ledger(p.port, 'rotated-token-0123456789')).status === 200,
        10_000,
      );
      expect((await ledger(p.port)).status).toBe(401);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    expect(p.lines().at(-1)).toMatchObject({ msg: 'stopped' });
  });

  it('warns at start when serving without tokens', async () => {
    const p = await spawnDecision([...OPEN, ...UNHURRIED_LOOKUPS]);
    try {
      expect(p.lines()).toContainEqual(
        expect.objectContaining({ level: 40, msg: expect.stringMatching(/^--insecure-no-auth/) }),
      );
      expect((await httpRequest({ port: p.port, path: '/v1/identities/127.0.0.2' })).json()).toMatchObject({
        identity: { metadata: { name: 'ledger-client' } },
      });
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  it("tunes V8's heap for requests and says so; a growing factor given to node is left as given", async () => {
    const tuned = (p: Process) => p.lines().find((l) => l.msg === 'V8 tuned for answering requests')?.v8;
    for (const [nodeFlags, expected] of [
      [[], ['--no-allocation-site-pretenuring', '--heap-growing-percent=300']],
      [['--heap-growing-percent=100'], ['--no-allocation-site-pretenuring']],
    ] as const) {
      const p = await spawnDecision(OPEN, [...nodeFlags]);
      try {
        expect(tuned(p)).toEqual(expected);
      } finally {
        p.child.kill('SIGTERM');
      }
      expect(await p.exited).toBe(0);
    }
  });
});
