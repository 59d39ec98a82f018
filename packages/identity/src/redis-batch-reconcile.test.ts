// Reconcile runs in batches (a few scripts, not one per pod) and leaves Redis exactly as the
// one-pod-at-a-time path (the one events take) does.
import { type RedisServer, startRedis } from '@podgate/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodRecord } from './model.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';
import { record } from './store.contract.js';

let redis: RedisServer;
let admin: Redis;
const opened: RedisIdentityStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  admin?.disconnect();
  await redis?.stop();
});

async function open(keyPrefix: string, reconcileBatchSize?: number): Promise<RedisIdentityStore> {
  const store = await createRedisIdentityStore({
    url: redis.url,
    keyPrefix,
    ...(reconcileBatchSize !== undefined ? { reconcileBatchSize } : {}),
  });
  opened.push(store);
  return store;
}

/** Calls per command since the last CONFIG RESETSTAT (INFO commandstats). */
async function commandCalls(): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** Every key under `prefix` (prefix stripped) with its content; heartbeats left out (clock values). */
async function dump(prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await admin.type(key);
      const name = key.slice(prefix.length);
      if (type === 'hash') out[name] = Object.entries(await admin.hgetall(key)).sort();
      else if (type === 'set') out[name] = (await admin.smembers(key)).sort();
      else if (!name.startsWith('hb:')) out[name] = type;
    }
  } while (cursor !== '0');
  return out;
}

/** mulberry32: a seeded PRNG, so a failing round can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IP_POOL = [
  ...Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`),
  ...Array.from({ length: 6 }, (_, i) => `fd00::${i + 1}`),
];
const UIDS = Array.from({ length: 40 }, (_, i) => `u${i}`);

type Op =
  | { kind: 'claim'; cluster: string; record: PodRecord }
  | { kind: 'release'; uid: string; rv: string };

/** A history with IP reuse, out-of-order versions, releases (tombstones), another cluster. */
function scenario(seed: number): { history: Op[]; listing: PodRecord[]; listingVersion: string } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const ips = () => {
    const n = rnd() < 0.1 ? 0 : rnd() < 0.8 ? 1 : 2;
    return [...new Set(Array.from({ length: n }, () => pick(IP_POOL)))];
  };
  let rv = 10;
  const history: Op[] = [];
  for (let i = 0; i < 120; i++) {
    rv += 1 + Math.floor(rnd() * 3);
    // Sometimes late: an older version arrives after newer ones.
    const at = String(rnd() < 0.15 ? rv - 1 - Math.floor(rnd() * 10) : rv);
    const uid = pick(UIDS);
    if (rnd() < 0.2) history.push({ kind: 'release', uid, rv: at });
    else history.push({ kind: 'claim', cluster: rnd() < 0.1 ? 'b' : 'a', record: record(uid, ips(), at) });
  }
  // The listing is taken at about 2/3 of the history: entries after that are newer than it.
  const listingVersion = String(10 + Math.floor((rv - 10) * (2 / 3)));
  const listing: PodRecord[] = [];
  for (const uid of UIDS) {
    if (rnd() < 0.35) continue;
    const v = String(Math.max(1, Number(listingVersion) - Math.floor(rnd() * 40)));
    listing.push(record(uid, ips(), v, { name: `listed-${uid}` }));
  }
  return { history, listing, listingVersion: rnd() < 0.15 ? '' : listingVersion };
}

async function apply(store: RedisIdentityStore, history: readonly Op[]): Promise<void> {
  for (const op of history) {
    if (op.kind === 'claim') await store.claim(op.cluster, op.record);
    else await store.release('a', op.uid, op.rv);
  }
}

describe('redis store: batched reconcile', () => {
  it('claims and sweeps with a few scripts instead of several commands per pod', async () => {
    const pods = 1000;
    const listing = Array.from({ length: pods }, (_, i) =>
      record(
        `p${i}`,
        i % 10 === 0 ? [`10.1.${i >> 8}.${i & 255}`, `fd01::${i}`] : [`10.1.${i >> 8}.${i & 255}`],
        '5',
      ),
    );
    const batched = await open(`cmdb${process.pid}:`);
    const perPod = await open(`cmdp${process.pid}:`, 0);
    await perPod.claim('a', record('gone', ['10.9.0.1'], '2'));
    await batched.claim('a', record('gone', ['10.9.0.1'], '2'));

    await admin.config('RESETSTAT');
    expect(await batched.reconcile('a', listing, { listingVersion: '6' })).toEqual({
      claimed: pods,
      removed: 1,
    });
    const b = await commandCalls();
    await admin.config('RESETSTAT');
    expect(await perPod.reconcile('a', listing, { listingVersion: '6' })).toEqual({
      claimed: pods,
      removed: 1,
    });
    const p = await commandCalls();

    const scripts = (c: Map<string, number>) => (c.get('evalsha') ?? 0) + (c.get('eval') ?? 0);
    // 1000 pods in batches of 256, 1 dropped pod entry, 1101 IPs in sweeps of up to 1024;
    // a first EVAL per script and connection (then EVALSHA), and a NOSCRIPT retry at most.
    expect(scripts(b)).toBeLessThanOrEqual(12);
    expect(b.get('hgetall') ?? 0).toBe(0);
    // The per-pod path: one script per pod.
    expect(scripts(p)).toBeGreaterThanOrEqual(pods);
    expect(await dump(`cmdb${process.pid}:`)).toEqual(await dump(`cmdp${process.pid}:`));
  });

  it('leaves Redis exactly as the one-pod-at-a-time path does (randomized listings)', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const { history, listing, listingVersion } = scenario(seed);
      // Small batches: several per listing, pods with released IPs in most of them.
      const batched = await open(`rb${seed}-${process.pid}:`, 3);
      const perPod = await open(`rp${seed}-${process.pid}:`, 0);
      await apply(batched, history);
      await apply(perPod, history);
      const before = await dump(`rb${seed}-${process.pid}:`);
      expect(before, `seed ${seed}: same history, same state`).toEqual(
        await dump(`rp${seed}-${process.pid}:`),
      );

      const options = listingVersion === '' ? {} : { listingVersion };
      const statsB = await batched.reconcile('a', listing, options);
      const statsP = await perPod.reconcile('a', listing, options);
      const after = await dump(`rb${seed}-${process.pid}:`);
      expect(after, `seed ${seed}`).toEqual(await dump(`rp${seed}-${process.pid}:`));
      expect(statsB, `seed ${seed}`).toEqual(statsP);
      // The round did something: the reconcile changed the store.
      expect(after, `seed ${seed}`).not.toEqual(before);
    }
  });

  it('refuses a batch size that is not an integer >= 0', async () => {
    await expect(open('bad:', 1.5)).rejects.toThrow(/reconcileBatchSize/);
  });
});
