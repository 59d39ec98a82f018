// The embedded store: one process only (`podgate dev`, tests). Same semantics as the Redis
// store, including resourceVersion ordering, tombstones and heartbeat freshness.
import { type ClaimEntry, claimFromRecord, type StoredClaim } from './claim.js';
import { assertClusterName } from './cluster-name.js';
import { canonicalIps, tryNormalizeIp } from './ip.js';
import type { LookupResult, PodRecord } from './model.js';
import { notFound, resolveClaims } from './resolve.js';
import { compareResourceVersions } from './resource-version.js';
import {
  assertHeartbeatTtl,
  assertPodUid,
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
}

export interface MemoryIdentityStoreOptions {
  /** Milliseconds; heartbeat expiry is measured on it. */
  now?: () => number;
}

/** `incoming` may replace an entry at `current` unless it is older (equal is a re-apply). */
const isOlder = (incoming: string, current: string) => compareResourceVersions(incoming, current) === -1;

export class MemoryIdentityStore extends EpochStore implements IdentityStore {
  private readonly now: () => number;
  /** ip -> cluster -> uid -> claim */
  private readonly claims = new Map<string, Map<string, Map<string, StoredClaim>>>();
  /** cluster -> uid -> pod entry */
  private readonly pods = new Map<string, Map<string, PodEntry>>();
  /** cluster -> heartbeat expiry */
  private readonly heartbeats = new Map<string, number>();
  /** cluster -> writer epoch (ADR 0003); writes carrying a lower one are refused. */
  private readonly epochs = new Map<string, number>();

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
    const previous = this.setPod(cluster, record.uid, record.resourceVersion, false, ips);
    if (previous === null) return;
    const claim = claimFromRecord(record);
    for (const ip of ips) this.setClaim(ip, cluster, record.uid, claim);
    for (const ip of previous.ips) {
      if (!ips.includes(ip)) this.deleteClaim(ip, cluster, record.uid, record.resourceVersion);
    }
  }

  /** @internal */
  async releaseAt(cluster: string, uid: string, resourceVersion: string, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(uid);
    this.checkEpoch(cluster, epoch);
    const previous = this.setPod(cluster, uid, resourceVersion, true, []);
    for (const ip of previous?.ips ?? []) this.deleteClaim(ip, cluster, uid, resourceVersion);
  }

  /** @internal */
  async reconcileAt(
    cluster: string,
    records: PodRecord[],
    options: ReconcileOptions = {},
    epoch = 0,
  ): Promise<ReconcileStats> {
    assertClusterName(cluster);
    for (const record of records) await this.claimAt(cluster, record, epoch);
    this.checkEpoch(cluster, epoch);
    const listed = new Map(records.map((r) => [r.uid, new Set(canonicalIps(r.ips))]));
    // Entries newer than the listing were written by events after it: keep them.
    const bound = reconcileBound(records, options.listingVersion);
    const pods = this.pods.get(cluster);
    for (const [uid, entry] of pods ?? []) {
      if (!listed.has(uid) && !isOlder(bound, entry.resourceVersion)) pods!.delete(uid);
    }
    let removed = 0;
    for (const [ip, byCluster] of this.claims) {
      for (const [uid, claim] of byCluster.get(cluster) ?? []) {
        if (listed.get(uid)?.has(ip) || isOlder(bound, claim.resourceVersion)) continue;
        this.deleteClaim(ip, cluster, uid, bound);
        removed++;
      }
    }
    return { claimed: records.length, removed };
  }

  /** @internal */
  async heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertHeartbeatTtl(ttlMs);
    this.checkEpoch(cluster, epoch);
    this.heartbeats.set(cluster, this.now() + ttlMs);
  }

  /** @internal */
  async raiseEpoch(cluster: string, epoch: number): Promise<number> {
    const stored = this.epochs.get(cluster) ?? 0;
    if (stored > epoch) return stored;
    this.epochs.set(cluster, epoch);
    return epoch;
  }

  private checkEpoch(cluster: string, epoch: number): void {
    const stored = this.epochs.get(cluster) ?? 0;
    if (epoch < stored) throw fencedError(cluster, epoch, stored);
  }

  async lookup(ip: string, clusters: readonly string[]): Promise<LookupResult> {
    const canonical = tryNormalizeIp(ip);
    if (canonical === null) return notFound('not_found', `not an IP address: ${JSON.stringify(ip)}`);
    const entries: ClaimEntry[] = [];
    for (const [cluster, byUid] of this.claims.get(canonical) ?? []) {
      for (const [uid, claim] of byUid) entries.push({ cluster, uid, claim });
    }
    const now = this.now();
    return resolveClaims(canonical, entries, clusters, (c) => (this.heartbeats.get(c) ?? -Infinity) > now);
  }

  async close(): Promise<void> {}

  /** The pod-level gate; returns the previous entry (empty if none), or null when refused. */
  private setPod(cluster: string, uid: string, rv: string, gone: boolean, ips: string[]): PodEntry | null {
    let pods = this.pods.get(cluster);
    if (pods === undefined) {
      pods = new Map();
      this.pods.set(cluster, pods);
    }
    const current = pods.get(uid);
    if (current !== undefined) {
      const order = compareResourceVersions(rv, current.resourceVersion);
      if (order === -1 || (order === 0 && current.gone)) return null;
    }
    pods.set(uid, { resourceVersion: rv, gone, ips });
    return current === undefined || current.gone ? { resourceVersion: '', gone: true, ips: [] } : current;
  }

  private setClaim(ip: string, cluster: string, uid: string, claim: StoredClaim): void {
    let byCluster = this.claims.get(ip);
    if (byCluster === undefined) {
      byCluster = new Map();
      this.claims.set(ip, byCluster);
    }
    let byUid = byCluster.get(cluster);
    if (byUid === undefined) {
      byUid = new Map();
      byCluster.set(cluster, byUid);
    }
    const current = byUid.get(uid);
    if (current !== undefined && isOlder(claim.resourceVersion, current.resourceVersion)) return;
    byUid.set(uid, claim);
  }

  private deleteClaim(ip: string, cluster: string, uid: string, rv: string): void {
    const byCluster = this.claims.get(ip);
    const byUid = byCluster?.get(cluster);
    const current = byUid?.get(uid);
    if (current === undefined || isOlder(rv, current.resourceVersion)) return;
    byUid!.delete(uid);
    if (byUid!.size === 0) byCluster!.delete(cluster);
    if (byCluster!.size === 0) this.claims.delete(ip);
  }
}
