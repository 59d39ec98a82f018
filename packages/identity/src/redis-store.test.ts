import { type RedisServer, startRedis } from '@podgate/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from './redis-keys.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import { describeRedisRaces } from './redis-store.races.js';
import { describeRedisStrays } from './redis-store.strays.js';
import { describeStoreContract, eventually, record } from './store.contract.js';
import type { IdentityStore } from './store.js';

// Not about the lookup deadline: 200 ms would let a loaded machine answer store_unavailable.
const UNHURRIED = { lookupTimeoutMs: 10_000 };

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describeStoreContract('redis (single server)', () => ({
  open: (keyPrefix) =>
    createRedisIdentityStore({ url: redis.url, keyPrefix, freshnessRefreshMs: 100, ...UNHURRIED }),
  sync: (store: IdentityStore) => (store as RedisIdentityStore).refreshFreshness(),
  elapse: async () => {},
  loseData: async (keyPrefix, clusters) => {
    const client = new Redis(redis.url);
    try {
      const keys = new RedisKeys(keyPrefix);
      // One slot per cluster (its hash tag): one DEL each, on Redis Cluster too.
      for (const c of clusters) await client.del(keys.pods(c), keys.claims(c), keys.heartbeat(c));
    } finally {
      client.disconnect();
    }
  },
}));

describeRedisStrays('single server', (keyPrefix) =>
  createRedisIdentityStore({ url: redis.url, keyPrefix, freshnessRefreshMs: 100, ...UNHURRIED }),
);

describeRedisRaces('single server', (keyPrefix, reconcileBatchSize) =>
  createRedisIdentityStore({
    url: redis.url,
    keyPrefix,
    freshnessRefreshMs: 100,
    reconcileBatchSize,
    ...UNHURRIED,
  }),
);

describe('redis store: failures', () => {
  const LOOKUP_TIMEOUT = 150;
  const SLACK = 150;

  it('answers store_unavailable within its deadline while Redis is paused, and recovers', async () => {
    const server = await startRedis();
    const store = await createRedisIdentityStore({
      url: server.url,
      lookupTimeoutMs: LOOKUP_TIMEOUT,
      clusters: ['a'],
    });
    try {
      await store.heartbeat('a', 60_000);
      await store.refreshFreshness();
      await store.claim('a', record('u1', ['10.0.0.1'], '1'));
      expect((await store.lookup('10.0.0.1', ['a'])).ok).toBe(true);
      server.pause();
      const started = performance.now();
      const results = await Promise.all([1, 2, 3].map(() => store.lookup('10.0.0.1', ['a'])));
      const elapsed = performance.now() - started;
      for (const r of results) expect(r).toMatchObject({ ok: false, reason: 'store_unavailable' });
      expect(elapsed).toBeGreaterThanOrEqual(LOOKUP_TIMEOUT - 5);
      expect(elapsed).toBeLessThan(LOOKUP_TIMEOUT + SLACK);
      server.resume();
      await eventually(async () => {
        expect((await store.lookup('10.0.0.1', ['a'])).ok).toBe(true);
      });
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('answers store_unavailable when Redis is gone, and works again once it is back and re-filled', async () => {
    const server = await startRedis();
    const store = await createRedisIdentityStore({
      url: server.url,
      lookupTimeoutMs: LOOKUP_TIMEOUT,
      freshnessRefreshMs: 50,
      clusters: ['a'],
      redisOptions: { retryStrategy: () => 50 },
    });
    let restarted: RedisServer | undefined;
    try {
      await store.heartbeat('a', 60_000);
      await store.claim('a', record('u1', ['10.0.0.1'], '1'));
      await store.refreshFreshness();
      expect((await store.lookup('10.0.0.1', ['a'])).ok).toBe(true);
      await server.stop();
      const started = performance.now();
      const r = await store.lookup('10.0.0.1', ['a']);
      expect(r).toMatchObject({ ok: false, reason: 'store_unavailable' });
      expect(performance.now() - started).toBeLessThan(LOOKUP_TIMEOUT + SLACK);

      // A restarted Redis is empty: nothing may be answered from it until the watcher refills it.
      restarted = await startRedis({ port: server.port });
      await eventually(async () => {
        expect(await store.lookup('10.0.0.1', ['a'])).toMatchObject({ ok: false, reason: 'stale_cluster' });
      });
      await store.heartbeat('a', 60_000);
      await store.claim('a', record('u1', ['10.0.0.1'], '1'));
      await eventually(async () => {
        expect((await store.lookup('10.0.0.1', ['a'])).ok).toBe(true);
      });
    } finally {
      await store.close();
      await restarted?.stop();
      await server.stop();
    }
  });

  it('refuses an ioredis keyPrefix: lookups would read another prefix than writes', async () => {
    // The lookup connection does not apply it: `x:` writes, unprefixed reads (another
    // deployment's claims, on a shared Redis).
    await expect(
      createRedisIdentityStore({ url: redis.url, redisOptions: { keyPrefix: 'x:' } }),
    ).rejects.toThrow(/keyPrefix/);
  });

  it('authenticates with the password in the URL and refuses a wrong one', async () => {
    const server = await startRedis({ password: 's3cret' });
    try {
      const store = await createRedisIdentityStore({ url: server.url, clusters: ['a'] });
      await store.heartbeat('a', 60_000);
      await store.close();
      const wrong = `redis://:nope@127.0.0.1:${server.port}`;
      await expect(
        createRedisIdentityStore({ url: wrong, redisOptions: { retryStrategy: () => null } }),
      ).rejects.toThrow(/cannot connect/);
    } finally {
      await server.stop();
    }
  });
});
