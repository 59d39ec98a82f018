// The store interface: one writer per cluster (the watcher), many readers.
// Implementations: RedisIdentityStore (single node and Redis Cluster), MemoryIdentityStore.
// All must pass the same contract suite (store.contract.ts).
import { assertClusterName } from './cluster-name.js';
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
  /**
   * The cluster's watcher is alive and in sync; readers trust its claims for `ttlMs`.
   * Once this store has completed a reconcile of `cluster`, a heartbeat also vouches that the
   * reconciled data is still there: every complete reconcile leaves a marker (SYNC_FIELD)
   * with the data, and when the marker is gone (Redis restarted empty, or failed over to a
   * replica that never had it) the heartbeat is refused with IdentityError
   * `store_unavailable` (a dataLostError) and not written: reconcile again, then heartbeat.
   * A store that never reconciled the cluster heartbeats as before (it vouches for nothing).
   */
  heartbeat(cluster: string, ttlMs: number): Promise<void>;
  /**
   * Makes this writer the cluster's writer of epoch `epoch` (a positive integer; the
   * watcher passes its Lease term, ADR 0003): raises the cluster's stored epoch to `epoch`
   * unless it is already higher (then `{ok: false, epoch: <the stored one>}`: a newer
   * writer exists), and returns a writer whose writes to `cluster` carry `epoch`. The store
   * refuses every write to a cluster (claim, release, reconcile, heartbeat) that carries an
   * epoch lower than the stored one, with IdentityError `fenced`; a writer that never
   * fenced carries epoch 0, so once a cluster has been fenced, unfenced writers are refused.
   * This writer's own epochs (for other clusters) carry over to the returned one.
   */
  fence(cluster: string, epoch: number): Promise<FenceResult>;
}

export type FenceResult = { ok: true; writer: IdentityWriter } | { ok: false; epoch: number };

/**
 * The field of the pod index (`pods:{c}`) that holds the cluster's writer epoch. Not a
 * Kubernetes UID (those are UUIDs); a pod record that uses it as its UID is refused.
 */
export const EPOCH_FIELD = '~epoch';

/**
 * The field of the pod index that marks the cluster's data as written by a complete
 * reconcile (its value: the reconcile's bound). A reconcile sets it first and requires it
 * last; a Redis that loses its data loses it with them, so a heartbeat that finds it missing
 * knows the claims it would vouch for are gone. Reserved like EPOCH_FIELD.
 */
export const SYNC_FIELD = '~synced';

/** Fields of the pod index that are not pods. */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set([EPOCH_FIELD, SYNC_FIELD]);

export function assertPodUid(uid: string): void {
  if (RESERVED_FIELDS.has(uid)) {
    throw new IdentityError('invalid_pod', `pod UID ${JSON.stringify(uid)} is reserved by the store`);
  }
}

export function assertEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch <= 0) {
    throw new IdentityError('invalid_store_options', `writer epoch must be a positive integer, got ${epoch}`);
  }
}

export function fencedError(cluster: string, epoch: number, stored?: number): IdentityError {
  const which = stored === undefined ? 'a newer epoch' : `epoch ${stored}`;
  return new IdentityError(
    'fenced',
    `write to cluster ${cluster} at writer epoch ${epoch} refused: the cluster is fenced at ${which} (another writer took over)`,
  );
}

/**
 * A heartbeat (or the end of a reconcile) found the cluster's data gone since this store's
 * last complete reconcile: the store lost it (a Redis restarted without persistence). Code
 * `store_unavailable`: the store cannot answer for the cluster until it is rewritten. The
 * watcher treats it as any failed store write: a full reconcile from its view, then the
 * heartbeat.
 */
export class DataLostError extends IdentityError {
  constructor(readonly cluster: string) {
    super(
      'store_unavailable',
      `cluster ${cluster}'s data is gone from the store (restarted empty?): heartbeat refused until a reconcile rewrites it`,
    );
  }
}

export const isDataLost = (error: unknown): error is DataLostError => error instanceof DataLostError;

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

/** What a store implements once, epoch as an argument; `epochWriter` binds the epochs. */
export interface EpochWrites {
  claimAt(cluster: string, record: PodRecord, epoch: number): Promise<void>;
  releaseAt(cluster: string, uid: string, resourceVersion: string, epoch: number): Promise<void>;
  reconcileAt(
    cluster: string,
    records: PodRecord[],
    options: ReconcileOptions | undefined,
    epoch: number,
  ): Promise<ReconcileStats>;
  heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void>;
  /** Raises the cluster's stored epoch to `epoch` unless higher; returns the stored one after. */
  raiseEpoch(cluster: string, epoch: number): Promise<number>;
}

const NO_EPOCHS: ReadonlyMap<string, number> = new Map();

/**
 * The IdentityWriter half of a store, written once: the store itself writes at epoch 0
 * (never fenced); `fence` hands out writers bound to an epoch. Stores implement the `*At`
 * writes and `raiseEpoch`.
 */
export abstract class EpochStore implements IdentityWriter, EpochWrites {
  abstract claimAt(cluster: string, record: PodRecord, epoch: number): Promise<void>;
  abstract releaseAt(cluster: string, uid: string, resourceVersion: string, epoch: number): Promise<void>;
  abstract reconcileAt(
    cluster: string,
    records: PodRecord[],
    options: ReconcileOptions | undefined,
    epoch: number,
  ): Promise<ReconcileStats>;
  abstract heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void>;
  abstract raiseEpoch(cluster: string, epoch: number): Promise<number>;

  claim(cluster: string, record: PodRecord): Promise<void> {
    return this.claimAt(cluster, record, 0);
  }

  release(cluster: string, uid: string, resourceVersion: string): Promise<void> {
    return this.releaseAt(cluster, uid, resourceVersion, 0);
  }

  reconcile(cluster: string, records: PodRecord[], options?: ReconcileOptions): Promise<ReconcileStats> {
    return this.reconcileAt(cluster, records, options, 0);
  }

  heartbeat(cluster: string, ttlMs: number): Promise<void> {
    return this.heartbeatAt(cluster, ttlMs, 0);
  }

  fence(cluster: string, epoch: number): Promise<FenceResult> {
    return fenceWriter(this, NO_EPOCHS, cluster, epoch);
  }
}

/** A writer whose writes to each cluster carry `epochs.get(cluster)` (0: never fenced). */
export function epochWriter(target: EpochWrites, epochs: ReadonlyMap<string, number>): IdentityWriter {
  const at = (cluster: string) => epochs.get(cluster) ?? 0;
  return {
    claim: (cluster, record) => target.claimAt(cluster, record, at(cluster)),
    release: (cluster, uid, rv) => target.releaseAt(cluster, uid, rv, at(cluster)),
    reconcile: (cluster, records, options) => target.reconcileAt(cluster, records, options, at(cluster)),
    heartbeat: (cluster, ttlMs) => target.heartbeatAt(cluster, ttlMs, at(cluster)),
    fence: (cluster, epoch) => fenceWriter(target, epochs, cluster, epoch),
  };
}

/** IdentityWriter.fence for a writer carrying `epochs`. */
export async function fenceWriter(
  target: EpochWrites,
  epochs: ReadonlyMap<string, number>,
  cluster: string,
  epoch: number,
): Promise<FenceResult> {
  assertClusterName(cluster);
  assertEpoch(epoch);
  const stored = await target.raiseEpoch(cluster, epoch);
  if (stored > epoch) return { ok: false, epoch: stored };
  return { ok: true, writer: epochWriter(target, new Map(epochs).set(cluster, epoch)) };
}
