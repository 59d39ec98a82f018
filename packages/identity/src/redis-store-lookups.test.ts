// Lookups through the dedicated lookup connection of the single-server Redis store:
// deadlines, no reply mix-up after a timeout, credentials and database from the URL.

import { type RedisServer, startRedis } from '@podgate/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from './redis-keys.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import { describeStoreContract, eventually, record } from './store.contract.js';
import type { IdentityStore } from './store.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

// The same rules hold with the lookup connection switched off (lookups on ioredis).
describeStoreContract('redis (single server, lookups on the shared client)', () => ({
  open: (keyPrefix) =>
    createRedisIdentityStore({
      url: redis.url,
      keyPrefix,
      freshnessRefreshMs: 100,
      dedicatedLookupConnection: false,
    }),
  sync: (store: IdentityStore) => (store as RedisIdentityStore).refreshFreshness(),
  elapse: async () => {},
  loseData: async (keyPrefix, clusters) => {
    const client = new Redis(redis.url);
    try {
      const keys = new RedisKeys(keyPrefix);
      for (const c of clusters) await client.del(keys.pods(c), keys.claims(c), keys.heartbeat(c));
    } finally {
      client.disconnect();
    }
  },
}));

const ip = (i: number) => `10.9.0.${i}`;
const uid = (i: number) => `uid-${i}`;
const uidOf = (r: Awaited<ReturnType<IdentityStore['lookup']>>) => (r.ok ? r.identity.uid : `<${r.reason}>`);

async function filledStore(url: string, count: number, lookupTimeoutMs = 200): Promise<RedisIdentityStore> {
  const store = await createRedisIdentityStore({ url, lookupTimeoutMs, clusters: ['a'] });
  await store.heartbeat('a', 60_000);
  await store.refreshFreshness();
  for (let i = 1; i <= count; i++) await store.claim('a', record(uid(i), [ip(i)], '1'));
  return store;
}

describe('redis store: the lookup connection', () => {
  it('answers after the server forgot its scripts (SCRIPT FLUSH: EVALSHA refused, EVAL sent)', async () => {
    const server = await startRedis();
    const store = await filledStore(server.url, 3);
    const admin = new Redis(server.url);
    try {
      expect(uidOf(await store.lookup(ip(1), ['a']))).toBe(uid(1));
      await admin.script('FLUSH');
      const after = await Promise.all([1, 2, 3].map((i) => store.lookup(ip(i), ['a'])));
      expect(after.map(uidOf)).toEqual([uid(1), uid(2), uid(3)]);
    } finally {
      admin.disconnect();
      await store.close();
      await server.stop();
    }
  });

  it('after lookups timed out on a paused server, gives each concurrent lookup its own IP identity', async () => {
    const server = await startRedis();
    const store = await filledStore(server.url, 30, 100);
    try {
      server.pause();
      const stalled = await Promise.all(Array.from({ length: 30 }, (_, k) => store.lookup(ip(k + 1), ['a'])));
      for (const r of stalled) {
        expect(r).toMatchObject({
          ok: false,
          reason: 'store_unavailable',
          message: expect.stringMatching(/100 ms/),
        });
      }
      server.resume();
      // Sent at once, so they queue behind the 30 stale replies; reversed order on purpose.
      const order = Array.from({ length: 30 }, (_, k) => 30 - k);
      const results = await Promise.all(order.map((i) => store.lookup(ip(i), ['a'])));
      expect(results.map(uidOf)).toEqual(order.map(uid));
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('authenticates with user and password from the URL and reads the database it names', async () => {
    const server = await startRedis({ password: 's3cret' });
    const url = `redis://default:s3cret@127.0.0.1:${server.port}/2`;
    const store = await filledStore(url, 1);
    const other = await createRedisIdentityStore({ url: server.url, clusters: ['a'] });
    try {
      expect(uidOf(await store.lookup(ip(1), ['a']))).toBe(uid(1));
      // Database 0 holds nothing of it: the writes and the lookups both went to database 2.
      await other.heartbeat('a', 60_000);
      await other.refreshFreshness();
      expect(uidOf(await other.lookup(ip(1), ['a']))).toBe('<not_found>');
    } finally {
      await store.close();
      await other.close();
      await server.stop();
    }
  });

  it('answers store_unavailable at once beyond its bound of outstanding lookups', async () => {
    const server = await startRedis();
    const store = await createRedisIdentityStore({
      url: server.url,
      lookupTimeoutMs: 500,
      maxOutstandingLookups: 2,
      clusters: ['a'],
    });
    try {
      server.pause();
      const inFlight = [store.lookup(ip(1), ['a']), store.lookup(ip(2), ['a'])];
      const started = performance.now();
      expect(await store.lookup(ip(3), ['a'])).toMatchObject({
        reason: 'store_unavailable',
        message: expect.stringMatching(/outstanding/),
      });
      expect(performance.now() - started).toBeLessThan(250); // not its 500 ms deadline
      for (const r of await Promise.all(inFlight)) expect(r).toMatchObject({ reason: 'store_unavailable' });
      server.resume();
      await eventually(async () => {
        expect(await store.lookup(ip(1), ['a'])).toMatchObject({ reason: 'stale_cluster' });
      });
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
