import { type RedisCluster, startRedisCluster } from '@podgate/test-support';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisKeys } from './redis-keys.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import { describeRedisRaces } from './redis-store.races.js';
import { describeRedisStrays } from './redis-store.strays.js';
import { describeStoreContract } from './store.contract.js';
import type { IdentityStore } from './store.js';

// Not about the lookup deadline: 200 ms would let a loaded machine answer store_unavailable.
const UNHURRIED = { lookupTimeoutMs: 10_000 };

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

describeStoreContract('redis cluster (3 masters)', () => ({
  open: (keyPrefix) =>
    createRedisIdentityStore({
      clusterNodes: cluster.nodes,
      keyPrefix,
      freshnessRefreshMs: 100,
      ...UNHURRIED,
    }),
  sync: (store: IdentityStore) => (store as RedisIdentityStore).refreshFreshness(),
  elapse: async () => {},
  loseData: async (keyPrefix, clusters) => {
    const client = new Cluster(cluster.nodes);
    try {
      const keys = new RedisKeys(keyPrefix);
      // One slot per cluster (its hash tag): one DEL each, on Redis Cluster too.
      for (const c of clusters) await client.del(keys.pods(c), keys.claims(c), keys.heartbeat(c));
    } finally {
      client.disconnect();
    }
  },
}));

describeRedisStrays('redis cluster (3 masters)', (keyPrefix) =>
  createRedisIdentityStore({ clusterNodes: cluster.nodes, keyPrefix, freshnessRefreshMs: 100, ...UNHURRIED }),
);

describeRedisRaces('redis cluster (3 masters)', (keyPrefix, reconcileBatchSize) =>
  createRedisIdentityStore({
    clusterNodes: cluster.nodes,
    keyPrefix,
    freshnessRefreshMs: 100,
    ...UNHURRIED,
    reconcileBatchSize,
  }),
);
