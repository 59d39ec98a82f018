// `podgate watcher` end to end: flags, /healthz, /readyz transitions, /metrics, a bad
// configuration, and a clean stop on SIGTERM in a real process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runWatcherCommand } from '@podgate/cli';
import { createRedisIdentityStore } from '@podgate/identity';
import {
  owner,
  podObject,
  type RedisServer,
  startFakeK8sApi,
  startRedis,
  startRedisCluster,
  waitFor,
} from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
let redis: RedisServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watcher-cmd-'));
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = () =>
  new Writable({
    write(_c, _e, done) {
      done();
    },
  });

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stop!: () => void;
  const stopSignal = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const errors: string[] = [];
  let port = 0;
  const exit = runWatcherCommand(argv, env, {
    stopSignal,
    logDestination: quiet(),
    err: (text) => errors.push(text),
    onListening: (p) => {
      port = p;
    },
  });
  return {
    exit,
    stop,
    errors,
    get: async (path: string) => {
      await waitFor('listening', () => port > 0 || errors.length > 0);
      if (port === 0) throw new Error(errors.join('\n'));
      return fetch(`http://127.0.0.1:${port}${path}`);
    },
  };
}

describe('runWatcherCommand', () => {
  it('refuses bad flags and flag values (2) and an unusable kubeconfig (1) with a clear message', async () => {
    const badFlag = run(['--cluster', 'x', '--no-such-flag']);
    expect(await badFlag.exit).toBe(2);
    expect(badFlag.errors.join('\n')).toMatch(/no-such-flag/);
    const noCluster = run(['--pods-file', 'p.yaml']);
    expect(await noCluster.exit).toBe(2);
    expect(noCluster.errors.join('\n')).toMatch(/--cluster \(or PODGATE_CLUSTER\) is required/);
    const badTtl = run(['--heartbeat-ttl', 'forever'], { PODGATE_CLUSTER: 'c' });
    expect(await badTtl.exit).toBe(2);
    expect(badTtl.errors.join('\n')).toMatch(/--heartbeat-ttl/);
    const badKubeconfig = run(['--cluster', 'c', '--kubeconfig', join(dir, 'missing')]);
    expect(await badKubeconfig.exit).toBe(1);
    expect(badKubeconfig.errors.join('\n')).toMatch(/cannot load kubeconfig/);
  });

  it('pods file + embedded store: /readyz 503 until the first sync, then 200; /metrics; clean stop', async () => {
    const file = join(dir, 'pods.yaml');
    const cmd = run([
      '--cluster',
      'dev',
      '--pods-file',
      file,
      '--listen',
      '127.0.0.1:0',
      '--heartbeat-interval',
      '100ms',
      '--poll-interval',
      '50ms',
    ]);
    expect((await cmd.get('/healthz')).status).toBe(200);
    const notReady = await cmd.get('/readyz');
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { status: string }).status).toBe('not ready');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n, uid: u1, resourceVersion: "5"}\nstatus: {phase: Running, podIP: 10.3.0.1}\n',
    );
    await waitFor('ready', async () => (await cmd.get('/readyz')).status === 200);
    const metrics = await (await cmd.get('/metrics')).text();
    expect(metrics).toMatch(/podgate_watcher_pods_tracked 1/);
    expect(metrics).toMatch(/podgate_watcher_relists_total 1/);
    expect(metrics).toMatch(/podgate_watcher_event_to_store_seconds_bucket/);
    cmd.stop();
    expect(await cmd.exit).toBe(0);
  });

  it('Kubernetes API (kubeconfig) + Redis: writes identities the readers see', async () => {
    const api = await startFakeK8sApi();
    api.addPod(podObject({ name: 'web', namespace: 'shop', ip: '10.3.1.1' }));
    const kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
    const cmd = run(['--cluster', 'prod', '--listen', '127.0.0.1:0', '--key-prefix', 'cmd:'], {
      KUBECONFIG: kubeconfig,
      REDIS_URL: redis.url,
    });
    const reader = await createRedisIdentityStore({
      url: redis.url,
      keyPrefix: 'cmd:',
      freshnessRefreshMs: 50,
      lookupTimeoutMs: 10_000, // the lookups are awaited, not timed
    });
    try {
      await waitFor('ready', async () => (await cmd.get('/readyz')).status === 200);
      await waitFor(
        'identity in Redis',
        async () => (await owner(reader, '10.3.1.1', 'prod')) === 'shop/web',
      );
      api.setDown(true);
      cmd.stop();
      expect(await cmd.exit).toBe(0);
    } finally {
      await reader.close();
      await api.close();
    }
  });
});

describe('runWatcherCommand on Redis Cluster', () => {
  it('--redis-cluster seeds: identities land on the cluster', async () => {
    const cluster = await startRedisCluster();
    const file = join(dir, 'cluster-pods.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n, uid: u1, resourceVersion: "5"}\nstatus: {phase: Running, podIP: 10.3.2.1}\n',
    );
    const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    const cmd = run([
      '--cluster',
      'rc',
      '--pods-file',
      file,
      '--listen',
      '127.0.0.1:0',
      '--redis-cluster',
      seeds,
    ]);
    const reader = await createRedisIdentityStore({
      clusterNodes: cluster.nodes,
      freshnessRefreshMs: 50,
      lookupTimeoutMs: 10_000,
    });
    try {
      await waitFor('ready', async () => (await cmd.get('/readyz')).status === 200, 15_000);
      await waitFor('identity in the cluster', async () => (await owner(reader, '10.3.2.1', 'rc')) === 'n/a');
      cmd.stop();
      expect(await cmd.exit).toBe(0);
    } finally {
      await reader.close();
      await cluster.stop();
    }
  });
});

describe('podgate watcher process', () => {
  it('exits 0 on SIGTERM', async () => {
    const file = join(dir, 'sig-pods.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: List\nitems: []\n');
    const script =
      "import { runWatcherCommand } from '@podgate/cli';" +
      'process.exitCode = await runWatcherCommand(process.argv.slice(1), process.env);';
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        '--',
        '--cluster',
        'sig',
        '--pods-file',
        file,
        '--listen',
        '127.0.0.1:0',
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('heartbeat started', () => out.includes('heartbeat started'), 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  });
});
