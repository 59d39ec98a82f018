// The embedded store: one process only (`podgate dev`, tests). Same semantics as the Redis
// store, including resourceVersion ordering, tombstones, writer epochs and heartbeat
// freshness, and the same layout: pod entries are the truth, an IP index finds them, and a
// write updates both in one step.
import { type ClaimEntry, claimFromRecord, type StoredClaim } from './claim.js';
import { assertClusterName } from './cluster-name.js';
import { canonicalIps, tryNormalizeIp } from './ip.js';
import type { LookupResult, PodRecord } from './model.js';
import { notFound, resolveClaims } from './resolve.js';
import { compareResourceVersions } from './resource-version.js';
import {
  assertHeartbeatTtl,
  assertPodUid,
  DataLostError,
  EpochStore,
  fencedError,
  type IdentityStore,
  type ReconcileOptions,
  type ReconcileStats,
  reconcileBound,
} from './store.js';

interface PodEntry {
  resourceVersion: string;
  /** A release tombstone: refuses claims not newer than it. */
  gone: boolean;
  ips: string[];
  /** The identity (live entries only). */
  claim: StoredClaim | null;
}

export interface MemoryIdentityStoreOptions {
  /** Milliseconds; heartbeat expiry is measured on it. */
  now?: () => number;
}

/** `incoming` may replace an entry at `current` unless it is older (equal is a re-apply). */
const isOlder = (incoming: string, current: string) => compareResourceVersions(incoming, current) === -1;

export class MemoryIdentityStore extends EpochStore implements IdentityStore {
  private readonly now: () => number;
  /** cluster -> uid -> pod entry: the truth. */
  private readonly pods = new Map<string, Map<string, PodEntry>>();
  /** cluster -> ip -> uids whose live entries list it: the index lookups start from. */
  private readonly index = new Map<string, Map<string, Set<string>>>();
  /** cluster -> heartbeat expiry */
  private readonly heartbeats = new Map<string, number>();
  /** cluster -> writer epoch (ADR 0003); writes carrying a lower one are refused. */
  private readonly epochs = new Map<string, number>();
  /** Clusters whose sync marker is set (the Redis store's SYNC_FIELD): lost with the data. */
  private readonly synced = new Set<string>();
  /** Clusters this store has completed a reconcile of: its heartbeats vouch for their data. */
  private readonly vouched = new Set<string>();

  constructor(options: MemoryIdentityStoreOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
  }

  /** @internal EpochWrites (store.ts): the writes, at a writer epoch. */
  async claimAt(cluster: string, record: PodRecord, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(record.uid);
    this.checkEpoch(cluster, epoch);
    const ips = canonicalIps(record.ips);
    this.setPod(cluster, record.uid, record.resourceVersion, false, ips, claimFromRecord(record));
  }

  /** @internal */
  async releaseAt(cluster: string, uid: string, resourceVersion: string, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(uid);
    this.checkEpoch(cluster, epoch);
    this.setPod(cluster, uid, resourceVersion, true, [], null);
  }

  /** @internal */
  async reconcileAt(
    cluster: string,
    records: PodRecord[],
    options: ReconcileOptions = {},
    epoch = 0,
  ): Promise<ReconcileStats> {
    assertClusterName(cluster);
    for (const record of records) assertPodUid(record.uid);
    this.checkEpoch(cluster, epoch);
    this.synced.add(cluster);
    for (const record of records) await this.claimAt(cluster, record, epoch);
    this.checkEpoch(cluster, epoch);
    const listed = new Set(records.map((r) => r.uid));
    // Entries newer than the listing were written by events after it: keep them.
    const bound = reconcileBound(records, options.listingVersion);
    let removed = 0;
    const pods = this.pods.get(cluster);
    for (const [uid, entry] of pods ?? []) {
      if (listed.has(uid) || isOlder(bound, entry.resourceVersion)) continue;
      pods!.delete(uid);
      if (!entry.gone) for (const ip of entry.ips) removed += this.unindex(cluster, ip, uid);
    }
    // The index never holds a membership its entry does not back (setPod keeps them in step);
    // the sweep is the Redis store's, kept here so both count the same.
    for (const [ip, uids] of this.index.get(cluster) ?? []) {
      for (const uid of uids) {
        if (this.backs(cluster, uid, ip) === undefined) removed += this.unindex(cluster, ip, uid);
      }
    }
    // As the Redis store's last step: the marker must have survived the reconcile.
    if (!this.synced.has(cluster)) throw new DataLostError(cluster);
    this.vouched.add(cluster);
    return { claimed: records.length, removed };
  }

  /** @internal */
  async heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertHeartbeatTtl(ttlMs);
    this.checkEpoch(cluster, epoch);
    if (this.vouched.has(cluster) && !this.synced.has(cluster)) throw new DataLostError(cluster);
    this.heartbeats.set(cluster, this.now() + ttlMs);
  }

  /**
   * Loses every cluster's data, as a Redis restarted without persistence does: entries, IP
   * index, heartbeats, writer epochs and sync markers. What this store remembers of its own
   * (the clusters it reconciled) stays, as a writer's memory survives a Redis restart.
   */
  loseData(): void {
    this.pods.clear();
    this.index.clear();
    this.heartbeats.clear();
    this.epochs.clear();
    this.synced.clear();
  }

  /** @internal */
  async raiseEpoch(cluster: string, epoch: number): Promise<number> {
    const stored = this.epochs.get(cluster) ?? 0;
    if (stored > epoch) return stored;
    this.epochs.set(cluster, epoch);
    return epoch;
  }

  /** As the Redis store's scripts: a lower epoch is refused, a higher one written back. */
  private checkEpoch(cluster: string, epoch: number): void {
    const stored = this.epochs.get(cluster) ?? 0;
    if (epoch < stored) throw fencedError(cluster, epoch, stored);
    if (epoch > stored) this.epochs.set(cluster, epoch);
  }

  async lookup(ip: string, consulted: readonly string[]): Promise<LookupResult> {
    const canonical = tryNormalizeIp(ip);
    if (canonical === null) return notFound('not_found', `not an IP address: ${JSON.stringify(ip)}`);
    const clusters = [...new Set(consulted)];
    const entries: ClaimEntry[] = [];
    for (const cluster of clusters) {
      for (const uid of this.index.get(cluster)?.get(canonical) ?? []) {
        // The entry is the truth: a membership it does not back is never an identity.
        const claim = this.backs(cluster, uid, canonical);
        if (claim !== undefined) entries.push({ cluster, uid, claim });
      }
    }
    const now = this.now();
    return resolveClaims(
      canonical,
      entries,
      clusters,
      (c) => (this.heartbeats.get(c) ?? -Infinity) > now,
      (c) => this.heartbeats.has(c) || this.pods.has(c),
    );
  }

  async close(): Promise<void> {}

  /** The claim of `uid`'s entry when it is live and lists `ip`. */
  private backs(cluster: string, uid: string, ip: string): StoredClaim | null | undefined {
    const entry = this.pods.get(cluster)?.get(uid);
    if (entry === undefined || entry.gone || !entry.ips.includes(ip)) return undefined;
    return entry.claim;
  }

  /**
   * The pod-level gate and the index in one step: refuses an older rv (or an equal one over a
   * tombstone); otherwise stores the entry and moves the pod's index memberships from the IPs
   * its previous live entry listed to `ips`.
   */
  private setPod(
    cluster: string,
    uid: string,
    rv: string,
    gone: boolean,
    ips: string[],
    claim: StoredClaim | null,
  ): void {
    let pods = this.pods.get(cluster);
    if (pods === undefined) {
      pods = new Map();
      this.pods.set(cluster, pods);
    }
    const current = pods.get(uid);
    if (current !== undefined) {
      const order = compareResourceVersions(rv, current.resourceVersion);
      if (order === -1 || (order === 0 && current.gone)) return;
    }
    pods.set(uid, { resourceVersion: rv, gone, ips, claim });
    if (current !== undefined && !current.gone) {
      for (const ip of current.ips) if (!ips.includes(ip)) this.unindex(cluster, ip, uid);
    }
    if (gone) return;
    let byIp = this.index.get(cluster);
    if (byIp === undefined) {
      byIp = new Map();
      this.index.set(cluster, byIp);
    }
    for (const ip of ips) {
      let uids = byIp.get(ip);
      if (uids === undefined) {
        uids = new Set();
        byIp.set(ip, uids);
      }
      uids.add(uid);
    }
  }

  /** Removes one membership; returns how many were removed (0 or 1). */
  private unindex(cluster: string, ip: string, uid: string): number {
    const byIp = this.index.get(cluster);
    const uids = byIp?.get(ip);
    if (uids === undefined || !uids.delete(uid)) return 0;
    if (uids.size === 0) byIp!.delete(ip);
    return 1;
  }
}
