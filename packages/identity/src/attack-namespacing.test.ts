// Attacks on key scoping: deployments sharing one Redis under key prefixes chosen to look like
// each other's keys (`pods:`, `claims:`, ``), cluster names that differ only in case or
// punctuation, and lookups of addresses spelled to slip past canonicalisation. No store may
// see another's claims; every spelling of one address is that address; anything else is no
// address at all. A real redis-server.
import { type RedisServer, startRedis } from '@podgate/test-support';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupResult } from './model.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import { record } from './store.contract.js';

// Not about the lookup deadline: 200 ms would let a loaded machine answer store_unavailable.
const UNHURRIED = { lookupTimeoutMs: 10_000 };

let redis: RedisServer;
const opened: RedisIdentityStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await redis?.stop();
});
const who = (r: LookupResult) => (r.ok ? `${r.identity.cluster}/${r.identity.uid}` : `<${r.reason}>`);

describe('attack: key prefixes and cluster names', () => {
  it('look-alike prefixes and near-identical cluster names never see each other’s claims', async () => {
    const prefixes = ['', 'pods:', 'claims:', 'hb:', 'x:pods:', 'x:'];
    const clusters = ['c', 'C', 'c.d', 'c-d', 'c_d'];
    const stores = await Promise.all(
      prefixes.map((keyPrefix) =>
        createRedisIdentityStore({ url: redis.url, keyPrefix, clusters, ...UNHURRIED }),
      ),
    );
    opened.push(...stores);
    // Every (prefix, cluster) claims the same IP with its own pod.
    for (const [p, store] of stores.entries()) {
      for (const cluster of clusters) {
        await store.heartbeat(cluster, 600_000);
        await store.claim(cluster, record(`p${p}-${cluster}`, ['10.5.0.1'], '5'));
      }
      await store.refreshFreshness();
    }
    for (const [p, store] of stores.entries()) {
      for (const cluster of clusters) {
        expect(who(await store.lookup('10.5.0.1', [cluster])), `prefix ${p} cluster ${cluster}`).toBe(
          `${cluster}/p${p}-${cluster}`,
        );
      }
      // A cluster named twice is still one claimant.
      expect(who(await store.lookup('10.5.0.1', ['c', 'c']))).toBe(`c/p${p}-c`);
    }
    // One deployment's reconcile removes only its own cluster's claim.
    await stores[0]!.reconcile('c', [], { listingVersion: '10' });
    expect(who(await stores[0]!.lookup('10.5.0.1', ['c']))).toBe('<not_found>');
    expect(who(await stores[0]!.lookup('10.5.0.1', ['C']))).toBe('C/p0-C');
    for (const store of stores.slice(1)) expect((await store.lookup('10.5.0.1', ['c'])).ok).toBe(true);
    // Raw keys: three per (prefix, cluster), nothing shared; the reconciled-empty cluster has
    // no claims key left, and its pods key holds only its sync marker (~synced).
    const client = (stores[0] as unknown as { client: Redis }).client;
    const keys = await client.keys('*');
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(prefixes.length * clusters.length * 3 - 1);
  });

  it('braces in a prefix and hash-tag characters in a cluster name are refused', async () => {
    await expect(createRedisIdentityStore({ url: redis.url, keyPrefix: 'a{b}:' })).rejects.toMatchObject({
      code: 'invalid_store_options',
    });
    const store = await createRedisIdentityStore({ url: redis.url, keyPrefix: 'brace:' });
    opened.push(store);
    for (const cluster of ['c}', '{c', 'a,b', 'a/b', '', '-c', 'c '.trim().padEnd(64, 'x')]) {
      await expect(store.claim(cluster, record('u', ['10.5.0.1'], '1')), cluster).rejects.toMatchObject({
        code: 'invalid_cluster_name',
      });
    }
  });
});

describe('attack: address spellings at lookup', () => {
  it('every spelling of a claimed address finds it; near-addresses are not addresses', async () => {
    const store = await createRedisIdentityStore({
      url: redis.url,
      keyPrefix: 'spell:',
      clusters: ['c'],
      ...UNHURRIED,
    });
    opened.push(store);
    await store.heartbeat('c', 600_000);
    await store.claim('c', record('v4', ['10.5.0.7'], '1'));
    await store.claim('c', record('v6', ['2001:db8::7'], '1'));
    await store.refreshFreshness();
    for (const ip of ['10.5.0.7', '::ffff:10.5.0.7', '::FFFF:a05:7', '0:0:0:0:0:ffff:10.5.0.7']) {
      expect(who(await store.lookup(ip, ['c'])), ip).toBe('c/v4');
    }
    for (const ip of ['2001:db8::7', '2001:DB8:0:0:0:0:0:7', '2001:0db8::0007']) {
      expect(who(await store.lookup(ip, ['c'])), ip).toBe('c/v6');
    }
    for (const ip of [
      '10.5.0.7\n',
      ' 10.5.0.7',
      '10.5.0.07',
      '010.5.0.7',
      '10.5.0.7%eth0',
      '2001:db8::7%1',
      '[2001:db8::7]',
      '10.5.0.7/32',
      '10.5.7',
      '167051271',
      '0x0a.5.0.7',
      '１０.5.0.7',
      '::ffff:10.5.0.7:1',
      '',
    ]) {
      expect(await store.lookup(ip, ['c']), JSON.stringify(ip)).toMatchObject({
        ok: false,
        reason: 'not_found',
      });
    }
  });
});
