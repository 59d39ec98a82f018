// Reconcile on the Redis store: after a complete listing, make the cluster's entries equal
// to it. Three phases, each a series of one-slot scripts that check the writer epoch
// (redis-scripts.ts), so a deposed writer's reconcile is refused at its next script, whatever
// phase it stalled in (ADR 0003):
// 0. set the cluster's sync marker (SYNC_FIELD, fenced like every write), and fail at once
//    when fenced;
// 1. claim every listed pod, a batch of pods per script;
// 2. drop the entries the listing does not contain (unless newer than the listing's bound),
//    each with its IP index memberships, in the same script;
// 3. sweep the IP index: remove memberships whose entry is gone or does not list the IP.
//    The writes never leave one; this is what finds data written by anything else.
// 4. require the sync marker: gone means the store lost its data during the reconcile (so the
//    writes before the loss are gone too); the reconcile fails, and is run again.
import { encodeEntry } from './claim.js';
import { canonicalIps } from './ip.js';
import type { PodRecord } from './model.js';
import type { Client } from './redis-connect.js';
import type { RedisKeys } from './redis-keys.js';
import { RESERVED_FIELDS, type ReconcileOptions, type ReconcileStats, reconcileBound } from './store.js';

export type ScriptFn = (...args: string[]) => Promise<unknown>;

/** The write scripts, as defined on the ioredis client (redis-store.ts). */
export interface WriteScripts {
  podgateWritePod: ScriptFn;
  podgateWritePods: ScriptFn;
  podgateDropPods: ScriptFn;
  podgateSweepIndex: ScriptFn;
  podgateSyncMark: ScriptFn;
}

export interface ReconcileTarget {
  client: Client;
  scripts: WriteScripts;
  keys: RedisKeys;
  /** Pods (or dropped entries) per script; 0: one per script. */
  batchSize: number;
}

const SCAN_COUNT = 1000;
/**
 * Writes in flight at once. Under 100 on purpose: V8 moves an allocation site to old-space
 * allocation ("pretenuring") once a scavenge finds 100 or more of its objects still alive,
 * and a burst of 128 claims waiting on Redis was enough; every later claim's garbage then
 * went straight to the old generation (peak RSS 390 MB instead of 220 at 100,000 pods).
 */
const WRITE_CONCURRENCY = 64;
const BATCHES_IN_FLIGHT = 2;
/** Index fields per sweep script when pods are written one at a time. */
const UNBATCHED_SWEEP_COUNT = 64;

/** WRITE_POD's arguments for a claim of `record` (IPs canonical). */
export function claimArgs(
  target: ReconcileTarget,
  cluster: string,
  record: PodRecord,
  epoch: number,
): string[] {
  const ips = canonicalIps(record.ips);
  return [
    target.keys.pods(cluster),
    target.keys.claims(cluster),
    String(epoch),
    record.uid,
    record.resourceVersion,
    ips.join(','),
    '0',
    encodeEntry(record, ips),
  ];
}

export async function reconcileOnRedis(
  target: ReconcileTarget,
  cluster: string,
  records: readonly PodRecord[],
  options: ReconcileOptions,
  epoch: number,
): Promise<ReconcileStats> {
  const { client, scripts, keys } = target;
  const podsKey = keys.pods(cluster);
  const claimsKey = keys.claims(cluster);
  const at = String(epoch);
  // Entries newer than the listing were written by events after it: keep them.
  const bound = reconcileBound(records, options.listingVersion);
  // Every script below checks the epoch; this first one also makes a deposed writer's
  // reconcile fail even when it would write nothing.
  await scripts.podgateSyncMark(podsKey, at, 'begin', bound);

  if (target.batchSize > 0) {
    await forEachBatch(records.length, target.batchSize, BATCHES_IN_FLIGHT, async (start, end) => {
      const argv = [podsKey, claimsKey, at];
      for (let i = start; i < end; i++) {
        const r = records[i]!;
        // Built per batch, not kept: hundreds of arrays alive at a scavenge get their
        // allocation site pretenured (see WRITE_CONCURRENCY).
        const ips = canonicalIps(r.ips);
        argv.push(r.uid, r.resourceVersion, ips.join(','), encodeEntry(r, ips));
      }
      await scripts.podgateWritePods(...argv);
    });
  } else {
    await forEachBatch(records.length, 1, WRITE_CONCURRENCY, async (i) => {
      await scripts.podgateWritePod(...claimArgs(target, cluster, records[i]!, epoch));
    });
  }

  const listed = new Set<string>();
  for (const r of records) listed.add(r.uid);
  let removed = 0;
  const dropSize = Math.max(1, target.batchSize);
  let cursor = '0';
  do {
    const [next, items] = await client.hscan(podsKey, cursor, 'COUNT', SCAN_COUNT);
    cursor = next;
    const unlisted: string[] = [];
    for (let i = 0; i < items.length; i += 2) {
      const uid = items[i]!;
      if (!RESERVED_FIELDS.has(uid) && !listed.has(uid)) unlisted.push(uid);
    }
    const chunks = Math.ceil(unlisted.length / dropSize);
    await forEachBatch(chunks, 1, target.batchSize > 0 ? BATCHES_IN_FLIGHT : WRITE_CONCURRENCY, async (c) => {
      const uids = unlisted.slice(c * dropSize, (c + 1) * dropSize);
      const reply = (await scripts.podgateDropPods(podsKey, claimsKey, at, bound, ...uids)) as number[];
      removed += Number(reply[1] ?? 0);
    });
  } while (cursor !== '0');

  const sweepCount = String(target.batchSize > 0 ? target.batchSize * 4 : UNBATCHED_SWEEP_COUNT);
  cursor = '0';
  do {
    const [next, swept] = (await scripts.podgateSweepIndex(podsKey, claimsKey, at, cursor, sweepCount)) as [
      string,
      number,
    ];
    cursor = String(next);
    removed += Number(swept);
  } while (cursor !== '0');
  await scripts.podgateSyncMark(podsKey, at, 'end', bound);
  return { claimed: records.length, removed };
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
