// The model-based store test on a 3-master Redis Cluster (one-slot scripts only). Writers'
// Redis commands run one at a time in the order each command's schedule gives.

import { type RedisCluster, startRedisCluster } from '@podgate/test-support';
import { afterAll, beforeAll, describe } from 'vitest';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import type { IdentityStore } from './store.js';
import { CommandGate } from './store.model.interleave.js';
import { describeStoreModel } from './store.model.suite.js';
import { CLUSTERS } from './store.model.world.js';

let cluster: RedisCluster;
const gate = new CommandGate();
beforeAll(async () => {
  cluster = await startRedisCluster();
  gate.install();
});
afterAll(async () => {
  gate.uninstall();
  await cluster?.stop();
});

describe('store model: redis cluster (3 masters)', () => {
  describeStoreModel(
    'redis cluster',
    () => ({
      open: (keyPrefix) =>
        createRedisIdentityStore({
          clusterNodes: cluster.nodes,
          keyPrefix,
          clusters: CLUSTERS,
          freshnessRefreshMs: 3_600_000,
          // The model has no deadline: a lookup must be answered, not timed out by a loaded machine.
          lookupTimeoutMs: 10_000,
        }),
      sync: (reader: IdentityStore) => (reader as RedisIdentityStore).refreshFreshness(),
      elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
      interleaver: gate,
    }),
    { runs: 150, msPerRun: 500 },
  );
});
