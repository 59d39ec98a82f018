// Data no write of this store leaves behind, planted by hand (another tool, a partial restore,
// an operator's HSET): an IP index membership without its pod entry is never an identity, and
// the next reconcile removes it. Shared by the single-server and Redis Cluster test files.
import { Cluster, type Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisIdentityStore } from './redis-store.js';
import { record } from './store.contract.js';

export function describeRedisStrays(name: string, open: (keyPrefix: string) => Promise<RedisIdentityStore>) {
  describe(`redis store strays: ${name}`, () => {
    const opened: RedisIdentityStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    let n = 0;
    async function fresh() {
      const prefix = `stray${process.pid}-${n++}:`;
      const store = await open(prefix);
      opened.push(store);
      const client = (store as unknown as { client: Redis | Cluster }).client;
      await store.heartbeat('c', 60_000);
      await store.refreshFreshness();
      return { store, client, claims: `${prefix}claims:{c}`, pods: `${prefix}pods:{c}` };
    }

    it('an index membership without a live entry listing the IP is never an identity', async () => {
      const { store, client, claims, pods } = await fresh();
      await store.claim('c', record('live', ['10.0.0.1'], '5'));
      await store.release('c', 'dead', '6');
      // No entry at all; a tombstone; a live entry that lists another IP; garbage.
      await client.hset(claims, '10.0.0.2', '["ghost"]');
      await client.hset(claims, '10.0.0.3', '["dead"]');
      await client.hset(claims, '10.0.0.4', '["live"]');
      await client.hset(claims, '10.0.0.5', 'not json');
      // Beside the real claimant, a ghost does not make the IP ambiguous.
      await client.hset(claims, '10.0.0.1', '["live","ghost"]');
      for (const ip of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) {
        expect(await store.lookup(ip, ['c']), ip).toMatchObject({ ok: false, reason: 'not_found' });
      }
      expect(await store.lookup('10.0.0.5', ['c'])).toMatchObject({ ok: false, reason: 'store_unavailable' });
      const live = await store.lookup('10.0.0.1', ['c']);
      expect(live.ok && live.identity.uid).toBe('live');

      // The next reconcile finds every one of them: 5 memberships, and keeps the real claim.
      const stats = await store.reconcile('c', [record('live', ['10.0.0.1'], '5')], { listingVersion: '10' });
      expect(stats).toEqual({ claimed: 1, removed: 5 });
      expect(await client.hgetall(claims)).toEqual({ '10.0.0.1': '["live"]' });
      // The pod, and the sync marker of the complete reconcile (SYNC_FIELD).
      expect(Object.keys(await client.hgetall(pods)).sort()).toEqual(['live', '~synced']);
    });

    it('survives SCRIPT FLUSH: lookups fall back to EVAL and writes reload their scripts', async () => {
      const { store, client } = await fresh();
      await store.claim('c', record('u1', ['10.0.0.1'], '5'));
      const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
      await Promise.all(nodes.map((node) => node.script('FLUSH')));
      const r = await store.lookup('10.0.0.1', ['c']);
      expect(r.ok && r.identity.uid).toBe('u1');
      await store.claim('c', record('u1', ['10.0.0.2'], '6'));
      const moved = await store.lookup('10.0.0.2', ['c']);
      expect(moved.ok && moved.identity.uid).toBe('u1');
    });
  });
}
