// Attacks on the Lua scripts with hostile values: uids, resourceVersions, names and
// annotations holding quotes, backslashes, slashes, newlines, NULs, JSON fragments that
// imitate the entry's own fields, and huge values. Each sequence runs on the Redis store
// (a real redis-server) and on the memory store: the two must answer alike, and no value may
// make a lookup name another pod or an IP its entry does not list.
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from './memory-store.js';
import type { LookupResult, PodRecord } from './model.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import { record } from './store.contract.js';
import type { IdentityStore } from './store.js';

// Not about the lookup deadline: 200 ms would let a loaded machine answer store_unavailable.
const UNHURRIED = { lookupTimeoutMs: 10_000 };

let redis: RedisServer;
let n = 0;
const opened: IdentityStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await redis?.stop();
});

/** A fresh Redis store (own key prefix) and a memory store, both with a fresh cluster `c`. */
async function both(): Promise<{ redis: RedisIdentityStore; memory: MemoryIdentityStore }> {
  const r = await createRedisIdentityStore({
    url: redis.url,
    keyPrefix: `hostile${n++}:`,
    clusters: ['c'],
    ...UNHURRIED,
  });
  const m = new MemoryIdentityStore();
  opened.push(r, m);
  for (const s of [r, m]) await s.heartbeat('c', 600_000);
  await r.refreshFreshness();
  return { redis: r, memory: m };
}

/** What a lookup says, comparable across stores: the identity, or the reason. */
function said(r: LookupResult): unknown {
  return r.ok ? { ...r.identity, annotations: { ...r.identity.annotations } } : r.reason;
}

async function lookBoth(stores: { redis: IdentityStore; memory: IdentityStore }, ip: string) {
  const [a, b] = await Promise.all([stores.redis.lookup(ip, ['c']), stores.memory.lookup(ip, ['c'])]);
  return { redis: said(a), memory: said(b) };
}

async function claimBoth(stores: { redis: IdentityStore; memory: IdentityStore }, rec: PodRecord) {
  await stores.redis.claim('c', rec);
  await stores.memory.claim('c', rec);
}

describe('attack: hostile uids', () => {
  // DEFECT (fail-closed, but the two stores disagree). LOOKUP's fast path for an index entry
  // naming one uid reads it with the Lua pattern '^%["([^"\\]*)"%]$'; in the JS template that
  // is `\\]`, which reaches Lua as the string escape `\]`, i.e. `]`, so the class is [^"]
  // and accepts backslashes. The index is written with cjson.encode, which escapes `/` as
  // `\/`, `\` as `\\` and control characters as `\n`, `\u0000`...: the pattern then captures
  // the escaped text (`a\/b`), HGETs a uid that does not exist, and the pod is never found.
  // The memory store finds it. A pods file may name any uid (`payments/worker-1`). Right
  // behaviour: every uid the store accepts is found. Fix (one line, redis-scripts.ts
  // LOOKUP): `[^"\\\\]` as `meta` in RULES already writes it, so such entries take the
  // cjson.decode path.
  it.each([
    ['a slash', 'payments/worker-1'],
    ['a backslash', 'dom\\user'],
    ['a newline', 'line\nbreak'],
    ['a NUL', 'nul\u0000byte'],
    ['a tab', 'tab\there'],
  ])('a uid with %s is found by the Redis store as by the memory store', async (_name, uid) => {
    const stores = await both();
    await claimBoth(stores, record(uid, ['10.1.0.1'], '5', { name: 'target' }));
    const seen = await lookBoth(stores, '10.1.0.1');
    expect(seen.memory).toMatchObject({ uid, name: 'target' });
    expect(seen.redis).toEqual(seen.memory);
  });

  it.each([
    ['a quote', 'say"hi'],
    ['a quote and a bracket', 'x"]'],
    ['a comma (IP lists are comma-joined; uid lists are JSON)', 'a,b'],
    ['the epoch field’s look-alike', '~epoch2'],
    ['non-ASCII', 'ünïcødé-☃-😀'],
    ['36 bytes of JSON', '["u1","u2"],"g":0,"i":"10.1.0.9"}'],
  ])('a uid with %s is found, and names only its own IPs', async (_name, uid) => {
    const stores = await both();
    await claimBoth(stores, record(uid, ['10.1.0.1'], '5', { name: 'target' }));
    const seen = await lookBoth(stores, '10.1.0.1');
    expect(seen.memory).toMatchObject({ uid, name: 'target' });
    expect(seen.redis).toEqual(seen.memory);
    expect(await lookBoth(stores, '10.1.0.9')).toEqual({ redis: 'not_found', memory: 'not_found' });
  });

  it('a uid that is another uid’s JSON escape never gets that pod’s identity', async () => {
    const stores = await both();
    // `a\/b` is what cjson writes for `a/b`.
    await claimBoth(stores, record('a/b', ['10.1.0.1'], '5', { name: 'slash' }));
    await claimBoth(stores, record('a\\/b', ['10.1.0.2'], '5', { name: 'escaped' }));
    const one = await lookBoth(stores, '10.1.0.1');
    const two = await lookBoth(stores, '10.1.0.2');
    // Today neither is found (the defect above); whatever the fix, neither names the other.
    expect(one.redis).not.toMatchObject({ name: 'escaped' });
    expect(two.redis).not.toMatchObject({ name: 'slash' });
    // Both on one IP (IP reuse): two live claimants, whatever their spelling.
    await claimBoth(stores, record('a\\/b', ['10.1.0.1'], '6', { name: 'escaped' }));
    expect(await lookBoth(stores, '10.1.0.1')).toEqual({ redis: 'ambiguous', memory: 'ambiguous' });
  });
});

describe('attack: hostile resourceVersions, names and annotations', () => {
  // Each imitates the start of an entry (`{"v":..,"g":..,"i":..`) that the scripts read by
  // pattern: none may change which IPs an entry lists, whether it is a tombstone, or its order.
  const INJECT = '","g":1,"i":"10.1.0.9';
  it.each([
    ['a quote injection', `7${INJECT}`],
    ['a backslash at the end', '7\\'],
    ['escaped-looking text', '7\\",\\"g\\":1'],
    ['a newline', '7\n'],
    ['empty', ''],
  ])('a resourceVersion with %s: same answers as the memory store, IPs as listed', async (_name, rv) => {
    const stores = await both();
    await claimBoth(stores, record('u1', ['10.1.0.1'], rv, { name: 'p1' }));
    expect(await lookBoth(stores, '10.1.0.1')).toEqual({
      redis: expect.objectContaining({ uid: 'u1' }),
      memory: expect.objectContaining({ uid: 'u1' }),
    });
    expect(await lookBoth(stores, '10.1.0.9')).toEqual({ redis: 'not_found', memory: 'not_found' });
    // A release at a decimal version, then a late claim at the hostile one: both stores agree.
    for (const s of [stores.redis, stores.memory]) await s.release('c', 'u1', '8');
    await claimBoth(stores, record('u1', ['10.1.0.1'], rv, { name: 'p1' }));
    const after = await lookBoth(stores, '10.1.0.1');
    expect(after.redis).toEqual(after.memory);
    // A reconcile at a decimal listing version that does not list it: gone from both.
    for (const s of [stores.redis, stores.memory]) await s.reconcile('c', [], { listingVersion: '100' });
    expect(await lookBoth(stores, '10.1.0.1')).toEqual({ redis: 'not_found', memory: 'not_found' });
  });

  it('names, namespaces and annotations with JSON fragments, escapes and NULs round-trip exactly', async () => {
    const stores = await both();
    const hostile = record('u1', ['10.1.0.1', '2001:db8::1'], '5', {
      name: `n${INJECT}"}\\`,
      namespace: 'ns\n\t\u0000"',
      annotations: {
        'k8s.ngrok.com/a': INJECT,
        'k8s.ngrok.com/"g":1': '\\"}]',
        'k8s.ngrok.com/\u2028': '\ud83d\ude00 \u0000',
        __proto__: 'not a prototype',
      },
    });
    await claimBoth(stores, hostile);
    for (const ip of ['10.1.0.1', '2001:db8::1', '2001:DB8:0::1', '::ffff:10.1.0.1']) {
      const seen = await lookBoth(stores, ip);
      expect(seen.redis, ip).toEqual(seen.memory);
      expect(seen.redis, ip).toMatchObject({ uid: 'u1', name: hostile.name, namespace: hostile.namespace });
    }
    expect(await lookBoth(stores, '10.1.0.9')).toEqual({ redis: 'not_found', memory: 'not_found' });
  });

  it('a 1 MiB annotation and 16 IPs: written and read in bounded time, identical in both stores', async () => {
    const stores = await both();
    const ips = Array.from({ length: 16 }, (_, i) => `10.2.0.${i + 1}`);
    const big = record('u-big', ips, '5', { annotations: { 'k8s.ngrok.com/big': 'x'.repeat(1024 * 1024) } });
    const started = performance.now();
    await claimBoth(stores, big);
    const seen = await lookBoth(stores, '10.2.0.16');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(seen.redis).toEqual(seen.memory);
    // Moving it releases all 16 at once, in one script.
    await claimBoth(stores, { ...big, ips: ['10.2.1.1'], resourceVersion: '6' });
    for (const ip of ips)
      expect(await lookBoth(stores, ip)).toEqual({ redis: 'not_found', memory: 'not_found' });
  });
});

describe('attack: hostile uids on Redis Cluster (lookups through ioredis, not the lookup connection)', () => {
  let cluster: RedisCluster | undefined;
  let store: RedisIdentityStore | undefined;
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  // DEFECT: the same LOOKUP fast path as above; on Redis Cluster too.
  it('a uid with a slash is found on Redis Cluster as by the memory store', async () => {
    cluster = await startRedisCluster();
    store = await createRedisIdentityStore({
      clusterNodes: cluster.nodes,
      keyPrefix: 'hostile-cluster:',
      clusters: ['c'],
      ...UNHURRIED,
    });
    await store.heartbeat('c', 600_000);
    await store.refreshFreshness();
    await store.claim('c', record('payments/worker-1', ['10.1.0.1'], '5', { name: 'target' }));
    expect(said(await store.lookup('10.1.0.1', ['c']))).toMatchObject({ uid: 'payments/worker-1' });
  }, 60_000);
});
