// The store interface: one writer per cluster (the watcher), many readers.
// Implementations: RedisIdentityStore (single node and Redis Cluster), MemoryIdentityStore.
// All must pass the same contract suite (store.contract.ts).
import { IdentityError } from './errors.js';
import type { LookupResult, PodRecord } from './model.js';
import { maxResourceVersion } from './resource-version.js';

export interface IdentityWriter {
  /**
   * Record that pod `record.uid` owns `record.ips` (and nothing else) in `cluster`.
   * Replaces this pod's previous claims: IPs it no longer lists are released.
   * Never touches another pod's claim on the same IP. Ignored when the store already
   * holds a newer resourceVersion (or a release tombstone newer than it) for this pod.
   * A record with no IPs is equivalent to `release`.
   */
  claim(cluster: string, record: PodRecord): Promise<void>;
  /** Pod `uid` is gone (deleted, or terminal): remove its claims, and only its claims. */
  release(cluster: string, uid: string, resourceVersion: string): Promise<void>;
  /**
   * After a complete listing: make the cluster's claims equal to `records` — claim each,
   * and remove every claim of a pod the listing does not contain. Call only with a
   * complete listing; a partial one would remove valid claims.
   *
   * Entries (claims, pod entries, tombstones) newer than the listing are kept: events after
   * the listing wrote them. The bound is `options.listingVersion` (or the newest listed
   * record's version, if newer). Without a (decimal) listing version the bound is the
   * newest listed record's version, which misses a pod that was the newest object and was
   * deleted before the listing: its claim would survive. Callers that know the listing's
   * version (a Kubernetes list's `metadata.resourceVersion`) must pass it.
   */
  reconcile(cluster: string, records: PodRecord[], options?: ReconcileOptions): Promise<ReconcileStats>;
  /** The cluster's watcher is alive and in sync; readers trust its claims for `ttlMs`. */
  heartbeat(cluster: string, ttlMs: number): Promise<void>;
}

export interface ReconcileOptions {
  /** The resourceVersion the listing is complete up to (a Kubernetes list's own version). */
  listingVersion?: string;
}

/**
 * The version up to which a reconcile may remove entries: the newer of the listing's own
 * version and the newest listed record's (a listed record proves the listing saw at least
 * its version). '' when neither is decimal: then no unlisted entry is kept.
 */
export function reconcileBound(records: readonly PodRecord[], listingVersion = ''): string {
  return maxResourceVersion([listingVersion, ...records.map((r) => r.resourceVersion)]);
}

/**
 * A heartbeat's TTL bounds how long readers trust a dead watcher's claims, so it must be a
 * positive integer of milliseconds (Infinity or NaN would mean trust for ever, or never).
 */
export function assertHeartbeatTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
    throw new IdentityError(
      'invalid_store_options',
      `heartbeat TTL must be a positive integer of ms, got ${ttlMs}`,
    );
  }
}

export interface ReconcileStats {
  claimed: number;
  removed: number;
}

export interface IdentityReader {
  /**
   * The identity that owns `ip` (already canonical) across `clusters`.
   * One store round trip; never throws: an unreachable store or a missed deadline is
   * `{ok: false, reason: 'store_unavailable'}`.
   */
  lookup(ip: string, clusters: readonly string[]): Promise<LookupResult>;
}

export interface IdentityStore extends IdentityWriter, IdentityReader {
  /** Releases connections and timers. */
  close(): Promise<void>;
}
