// Reconcile's writes on ONE Redis server, a batch of pods (or IPs) per script instead of
// several commands per pod: the same rules (redis-batch-scripts.ts), a few hundred times
// fewer round trips and promises. Redis Cluster cannot run these scripts (many slots each).
import type { Redis } from 'ioredis';
import { claimField, encodeClaim } from './claim.js';
import { canonicalIps } from './ip.js';
import type { PodRecord } from './model.js';
import { CLAIM_BATCH, SWEEP_BATCH } from './redis-batch-scripts.js';

/** What the batches need of the store: its connection and key layout. */
export interface BatchTarget {
  client: Redis;
  podsKey: string;
  ipsKey: string;
  /** The writer epoch the claims carry (ADR 0003). */
  epoch: number;
  ipKey(ip: string): string;
  /** DELETE_CLAIM (one slot) on `ipKey`: a released IP's claim, unless newer than rv. */
  deleteClaim(ipKey: string, field: string, rv: string): Promise<unknown>;
}

type BatchScript = (numKeys: number, keys: string[], argv: string[]) => Promise<unknown>;
interface BatchScripts {
  podgateClaimBatch: BatchScript;
  podgateSweepBatch: BatchScript;
}

/** Defines the batch scripts on `client` (variable key counts: numkeys goes first). */
export function defineBatchScripts(client: Redis): void {
  client.defineCommand('podgateClaimBatch', { lua: CLAIM_BATCH });
  client.defineCommand('podgateSweepBatch', { lua: SWEEP_BATCH });
}

const scriptsOf = (client: Redis) => client as unknown as BatchScripts;

/**
 * Claims `records` `batchSize` at a time, `inFlight` batches at once: each record as
 * `claim` would (SET_POD, SET_CLAIM on each IP, DELETE_CLAIM on the IPs it no longer has).
 */
export async function claimInBatches(
  target: BatchTarget,
  cluster: string,
  records: readonly PodRecord[],
  batchSize: number,
  inFlight: number,
): Promise<void> {
  await forEachBatch(records.length, batchSize, inFlight, async (start, end) => {
    const keys = [target.podsKey, target.ipsKey];
    const argv = [cluster, String(target.epoch)];
    for (let i = start; i < end; i++) {
      const r = records[i]!;
      // Not kept across the await (recomputed for the rare release below): hundreds of
      // arrays alive at a scavenge get their allocation site pretenured (WRITE_CONCURRENCY).
      const ips = canonicalIps(r.ips);
      for (const ip of ips) keys.push(target.ipKey(ip));
      argv.push(r.uid, r.resourceVersion, ips.join(','), String(ips.length), encodeClaim(r));
    }
    const reply = (await scriptsOf(target.client).podgateClaimBatch(keys.length, keys, argv)) as Array<
      number | string
    >;
    const releases: Promise<unknown>[] = [];
    for (let p = 0; p + 1 < reply.length; p += 2) {
      const n = Number(reply[p]);
      const r = records[start + n]!;
      const ips = canonicalIps(r.ips);
      const field = claimField(cluster, r.uid);
      for (const ip of podEntryIps(reply[p + 1])) {
        if (!ips.includes(ip)) releases.push(target.deleteClaim(target.ipKey(ip), field, r.resourceVersion));
      }
    }
    await Promise.all(releases);
  });
}

/**
 * Sweeps `ips` (a page of ips:{c}) `batchSize` at a time: deletes the cluster's claims by
 * pods not listed with the IP, unless newer than `bound`. `listedOn(ip)` gives the uids of
 * the listed pods that list the IP. Returns the number of claims deleted.
 */
export async function sweepInBatches(
  target: BatchTarget,
  cluster: string,
  ips: readonly string[],
  listedOn: (ip: string) => string | readonly string[] | undefined,
  bound: string,
  batchSize: number,
  inFlight: number,
): Promise<number> {
  let removed = 0;
  await forEachBatch(ips.length, batchSize, inFlight, async (start, end) => {
    const keys = [target.ipsKey];
    const argv = [cluster, bound];
    for (let i = start; i < end; i++) {
      const ip = ips[i]!;
      keys.push(target.ipKey(ip));
      const uids = listedOn(ip);
      if (uids === undefined) argv.push(ip, '0');
      else if (typeof uids === 'string') argv.push(ip, '1', uids);
      else argv.push(ip, String(uids.length), ...uids);
    }
    // Read the count before adding: `removed += await ...` would lose a concurrent batch's.
    const deleted = Number(await scriptsOf(target.client).podgateSweepBatch(keys.length, keys, argv));
    removed += deleted;
  });
  return removed;
}

/** The IPs of a pod entry ('' = no entry; tombstones own none). */
export function podEntryIps(entry: unknown): string[] {
  if (typeof entry !== 'string' || entry === '') return [];
  try {
    const parsed = JSON.parse(entry) as { g?: unknown; i?: unknown };
    if (parsed.g === 1 || typeof parsed.i !== 'string') return [];
    return parsed.i.split(',').filter((ip) => ip !== '');
  } catch {
    return [];
  }
}

/** Runs `fn` on [start, end) slices of `count` items, at most `inFlight` at once. */
async function forEachBatch(
  count: number,
  batchSize: number,
  inFlight: number,
  fn: (start: number, end: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const start = next;
      next = Math.min(count, start + batchSize);
      await fn(start, next);
    }
  };
  const workers = Math.min(inFlight, Math.ceil(count / batchSize));
  await Promise.all(Array.from({ length: workers }, worker));
}
