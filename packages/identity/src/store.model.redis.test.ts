// The model-based store test on one Redis server, with the batched reconcile (the default)
// and the per-pod one (reconcileBatchSize 0). Writers' Redis commands run one at a time in
// the order each command's schedule gives (store.model.interleave.ts).

import { type RedisServer, startRedis } from '@podgate/test-support';
import { afterAll, beforeAll, describe } from 'vitest';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import type { IdentityStore } from './store.js';
import type { ModelBackend } from './store.model.harness.js';
import { CommandGate } from './store.model.interleave.js';
import { describeStoreModel } from './store.model.suite.js';
import { CLUSTERS } from './store.model.world.js';

let redis: RedisServer;
const gate = new CommandGate();
beforeAll(async () => {
  redis = await startRedis();
  gate.install();
});
afterAll(async () => {
  gate.uninstall();
  await redis?.stop();
});

function backend(reconcileBatchSize?: number): ModelBackend {
  return {
    open: (keyPrefix) =>
      createRedisIdentityStore({
        url: redis.url,
        keyPrefix,
        clusters: CLUSTERS,
        // Heartbeats are read when the test says (sync), never by the background timer.
        freshnessRefreshMs: 3_600_000,
        // The model has no deadline: a lookup must be answered, not timed out by a loaded machine.
        lookupTimeoutMs: 10_000,
        ...(reconcileBatchSize !== undefined ? { reconcileBatchSize } : {}),
      }),
    sync: (reader: IdentityStore) => (reader as RedisIdentityStore).refreshFreshness(),
    elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
    interleaver: gate,
  };
}

describe('store model: redis (single server)', () => {
  describeStoreModel('redis, batched reconcile', () => backend(), { runs: 250, msPerRun: 400 });
  describeStoreModel('redis, per-pod reconcile', () => backend(0), { runs: 250, msPerRun: 400 });
});
