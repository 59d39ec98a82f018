// A Redis outage while pods change: the watcher keeps its desired state, retries with
// backoff, stops heartbeating, and converges the store once Redis answers again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisIdentityStore, type RedisIdentityStore } from '@podgate/identity';
import {
  type FakeK8sApi,
  memoryLogger,
  owner,
  podObject,
  type RedisServer,
  redisCli,
  startFakeK8sApi,
  startRedis,
  waitFor,
} from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import { createMetrics, loadKubeAccess, startWatcher } from '@podgate/watcher';
import { afterAll, beforeAll, expect, it } from 'vitest';

let dir: string;
let redis: RedisServer;
let api: FakeK8sApi;
let writerStore: RedisIdentityStore;
let readerStore: RedisIdentityStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watcher-redis-'));
  redis = await startRedis();
  api = await startFakeK8sApi();
  const options = { url: redis.url, keyPrefix: 'outage:', redisOptions: { commandTimeout: 300 } };
  writerStore = await createRedisIdentityStore(options);
  readerStore = await createRedisIdentityStore({ ...options, freshnessRefreshMs: 50 });
});
afterAll(async () => {
  redis?.resume();
  await writerStore?.close();
  await readerStore?.close();
  await api?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('converges the store after Redis comes back, losing no change made meanwhile', async () => {
  api.addPod(podObject({ name: 'a', namespace: 'n', ip: '10.1.0.1' }));
  api.addPod(podObject({ name: 'c', namespace: 'n', ip: '10.1.0.3' }));
  const kube = await loadKubeAccess({ kubeconfigPath: api.writeKubeconfig(join(dir, 'kubeconfig')) });
  const { logger, lines } = memoryLogger();
  const metrics = createMetrics();
  const source = testKubeSource(kube, { logger, metrics });
  const watcher = startWatcher(
    {
      cluster: 'c1',
      heartbeatIntervalMs: 100,
      heartbeatTtlMs: 1_000,
      apiGraceMs: 1_000,
      storeBackoff: { baseMs: 50, capMs: 300 },
    },
    { store: writerStore, source, logger, metrics },
  );
  try {
    await watcher.ready;
    await waitFor('watching', () => api.activeWatches === 1);
    const who = (ip: string) => owner(readerStore, ip, 'c1');
    // The reader trusts the cluster once it has read the watcher's heartbeat (a refresh away).
    await waitFor('the reader sees a', async () => (await who('10.1.0.1')) === 'n/a', 5_000);

    redis.pause();
    api.deletePod('n', 'a');
    api.addPod(podObject({ name: 'b', namespace: 'n', ip: '10.1.0.2' }));
    api.updatePod('n', 'c', (p) => {
      p.status = { phase: 'Running', podIP: '10.1.0.4', podIPs: [{ ip: '10.1.0.4' }] };
    });
    await waitFor('store failure noticed', () => watcher.status().storeFailing, 5_000);
    await waitFor('heartbeat stopped', () => !watcher.status().heartbeating, 5_000);
    expect(watcher.status().pendingWrites).toBeGreaterThan(0);

    redis.resume();
    await waitFor(
      'converged',
      async () => !watcher.status().storeFailing && watcher.status().heartbeating,
      10_000,
    );
    await waitFor('reader sees the converged state', async () => (await who('10.1.0.2')) === 'n/b', 5_000);
    expect(await who('10.1.0.1')).toBe('!not_found');
    expect(await who('10.1.0.4')).toBe('n/c');
    expect(await who('10.1.0.3')).toBe('!not_found');
    expect(lines().some((l) => l.msg === 'store write failed')).toBe(true);
    const errors =
      (await metrics.registry.getSingleMetric('podgate_watcher_store_errors_total')?.get())?.values ?? [];
    expect(errors.reduce((sum, v) => sum + v.value, 0)).toBeGreaterThan(0);
  } finally {
    await watcher.stop();
  }
});

it('a store that lost everything silently (FLUSHALL on our own server) is repaired by the periodic resync', async () => {
  api.addPod(podObject({ name: 'r1', namespace: 'resync', ip: '10.1.1.1' }));
  const kube = await loadKubeAccess({ kubeconfigPath: api.writeKubeconfig(join(dir, 'kubeconfig-2')) });
  const { logger } = memoryLogger();
  const metrics = createMetrics();
  const source = testKubeSource(kube, { logger, metrics });
  const watcher = startWatcher(
    {
      cluster: 'c2',
      heartbeatIntervalMs: 100,
      heartbeatTtlMs: 1_000,
      apiGraceMs: 1_000,
      resyncIntervalMs: 300,
    },
    { store: writerStore, source, logger, metrics },
  );
  try {
    await watcher.ready;
    const who = (ip: string) => owner(readerStore, ip, 'c2');
    await waitFor('claimed', async () => (await who('10.1.1.1')) === 'resync/r1');
    expect(await redisCli(redis.port, ['FLUSHALL'])).toBe('OK');
    await waitFor('lost', async () => (await who('10.1.1.1')) !== 'resync/r1');
    await waitFor('repaired by the resync', async () => (await who('10.1.1.1')) === 'resync/r1', 5_000);
  } finally {
    await watcher.stop();
  }
});
