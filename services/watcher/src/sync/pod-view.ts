// The watcher's in-memory view of the cluster: one slim record per live pod, keyed by
// UID, plus namespace/name -> UID to notice a pod recreated under the same name.
// Pure: every change returns the store operations it calls for; no I/O here.
//
// Replays are expected (a watch resumed from an older version, a relist racing events), so
// nothing older than what the view knows of a pod changes anything:
// - a held pod: only a newer version of it applies (each record keeps its version);
// - a pod the view released (deleted, vanished from a listing, replaced under its name):
//   only a version newer than the one it ended at, kept in a bounded map of releases;
// - any other UID: only a version newer than the last complete listing, which would have
//   held it, and newer than every release the bounded map has forgotten;
// - a new UID under a held name: the held pod is released only when the newcomer is newer.
// Versions are ordered as the store orders them (resource-version.ts).
import type { PodRecord } from '@podgate/identity';
import type { SourcedRecord } from '../sources/types.js';
import { isNewer, isOlder, newest } from './resource-version.js';

export type StoreOp =
  | { kind: 'claim'; record: PodRecord }
  | { kind: 'release'; uid: string; resourceVersion: string };

export type UpsertOutcome =
  | 'claimed' // new pod, or its identity/IPs changed
  | 'unchanged' // a newer version that changes nothing the store holds
  | 'stale' // not newer than what the view knows of that pod (by UID or by name): ignored
  | 'replaced'; // same name, new UID: old pod released, new one claimed

/**
 * Releases remembered by default. Past it the oldest are forgotten and the view refuses
 * every unknown UID not newer than the newest forgotten release instead (coarser, still
 * safe: an event delivered in order is newer than every release before it).
 */
export const DEFAULT_RELEASES_KEPT = 10_000;

export class PodView {
  private byUid = new Map<string, SourcedRecord>();
  private readonly uidByKey = new Map<string, string>();
  /** UID -> the version it was released at; oldest release first (Map order). */
  private readonly released = new Map<string, string>();
  /** The last complete listing's version. */
  private listedAt: string | undefined;
  /** The newest version among releases dropped from `released` for room. */
  private forgottenUpTo: string | undefined;

  constructor(private readonly releasesKept = DEFAULT_RELEASES_KEPT) {}

  get size(): number {
    return this.byUid.size;
  }

  /** Releases remembered (bounded by the constructor's limit). */
  get releasesRemembered(): number {
    return this.released.size;
  }

  /**
   * A complete listing replaces everything; the caller reconciles the store with
   * `records()` at the listing's version. Returns releases for the pods that vanished
   * since the previous view, at the listing's version: the reconcile removes their claims
   * but leaves no tombstone, and the release's tombstone refuses a late event for them.
   */
  replaceAll(records: readonly SourcedRecord[], listingVersion?: string): StoreOp[] {
    // The old map itself, not a copy (a copy is 100,000 entries of garbage per relist).
    const before = this.byUid;
    this.byUid = new Map();
    this.uidByKey.clear();
    for (const record of records) {
      // A listing older than a release the view saw: that release is the newer truth.
      const ended = this.released.get(record.uid);
      if (ended !== undefined && !isNewer(record.resourceVersion, ended)) continue;
      const key = podKey(record);
      const previous = this.uidByKey.get(key);
      // Two pods under one name in one listing cannot happen; keep the newer one if it does.
      if (previous !== undefined) {
        const held = this.byUid.get(previous)!;
        if (isOlder(record.resourceVersion, held.resourceVersion)) continue;
        this.byUid.delete(previous);
      }
      this.byUid.set(record.uid, record);
      this.uidByKey.set(key, record.uid);
    }
    const vanished: StoreOp[] = [];
    for (const [uid, old] of before) {
      if (this.byUid.has(uid)) continue;
      const version = newest(old.resourceVersion, listingVersion ?? old.resourceVersion);
      vanished.push({ kind: 'release', uid, resourceVersion: version });
    }
    if (listingVersion !== undefined) {
      this.listedAt = listingVersion;
      // The listing's version refuses every unknown UID up to it: releases it covers are
      // redundant.
      for (const [uid, ended] of this.released) {
        if (!isNewer(ended, listingVersion)) this.released.delete(uid);
      }
    }
    for (const op of vanished) if (op.kind === 'release') this.remember(op.uid, op.resourceVersion);
    return vanished;
  }

  upsert(record: SourcedRecord): { outcome: UpsertOutcome; ops: StoreOp[] } {
    const stale = { outcome: 'stale' as const, ops: [] };
    const version = record.resourceVersion;
    const held = this.byUid.get(record.uid);
    if (held !== undefined) {
      if (!isNewer(version, held.resourceVersion)) return stale;
    } else if (!this.couldBeNew(record.uid, version)) {
      return stale;
    }
    const key = podKey(record);
    const heldUid = this.uidByKey.get(key);
    const ops: StoreOp[] = [];
    let replaced = false;
    if (heldUid !== undefined && heldUid !== record.uid) {
      // The name now belongs to another pod. Only a newer one: a replayed event of a pod
      // deleted before the holder was created must not cost the holder its identity.
      const old = this.byUid.get(heldUid)!;
      if (!isNewer(version, old.resourceVersion)) return stale;
      // The old pod is gone (an informer keyed by namespace/name reports this as an
      // update). Release it at the new version, newer than anything the old pod had.
      this.byUid.delete(heldUid);
      ops.push({ kind: 'release', uid: heldUid, resourceVersion: version });
      this.remember(heldUid, version);
      replaced = true;
    }
    this.byUid.set(record.uid, record);
    this.uidByKey.set(key, record.uid);
    if (held !== undefined && podKey(held) !== key && this.uidByKey.get(podKey(held)) === record.uid) {
      this.uidByKey.delete(podKey(held));
    }
    if (held !== undefined && sameStoredState(held, record)) return { outcome: 'unchanged', ops };
    ops.push({ kind: 'claim', record });
    return { outcome: replaced ? 'replaced' : 'claimed', ops };
  }

  /**
   * The pod is gone. Its last state may be stale (an older copy than the view holds), so
   * release by UID, never by the IPs it lists, at the newest version either side knows.
   */
  remove(record: SourcedRecord): StoreOp[] {
    const held = this.byUid.get(record.uid);
    let version = held ? newest(held.resourceVersion, record.resourceVersion) : record.resourceVersion;
    const ended = this.released.get(record.uid);
    if (ended !== undefined) version = newest(ended, version);
    this.byUid.delete(record.uid);
    const key = podKey(record);
    if (this.uidByKey.get(key) === record.uid) this.uidByKey.delete(key);
    this.remember(record.uid, version);
    return [{ kind: 'release', uid: record.uid, resourceVersion: version }];
  }

  records(): PodRecord[] {
    return [...this.byUid.values()];
  }

  get(uid: string): PodRecord | undefined {
    return this.byUid.get(uid);
  }

  /** Whether an event of a UID the view does not hold may be applied. */
  private couldBeNew(uid: string, version: string): boolean {
    const ended = this.released.get(uid);
    if (ended !== undefined) return isNewer(version, ended);
    // A complete listing at or after this version would have held the pod.
    if (this.listedAt !== undefined && !isNewer(version, this.listedAt)) return false;
    return this.forgottenUpTo === undefined || isNewer(version, this.forgottenUpTo);
  }

  private remember(uid: string, version: string): void {
    this.released.delete(uid); // re-inserted last: the Map's order is the releases' order
    this.released.set(uid, version);
    while (this.released.size > this.releasesKept) {
      const [oldest, ended] = this.released.entries().next().value as [string, string];
      this.released.delete(oldest);
      this.forgottenUpTo = this.forgottenUpTo === undefined ? ended : newest(this.forgottenUpTo, ended);
    }
  }
}

/**
 * The view's key of a pod: its namespace and name as the origin spelled them (uncut), in a
 * form no other pair spells (the namespace's length first).
 */
export function podKey(record: { namespace: string; name: string; uncutKey?: string }): string {
  return record.uncutKey ?? keyOf(record.namespace, record.name);
}

/** The key of a namespace and name (a deriver sets it as `uncutKey` for cut ones). */
export function keyOf(namespace: string, name: string): string {
  return `${namespace.length}:${namespace}/${name}`;
}

/** Whether two versions of one pod would write the same thing to the store. */
export function sameStoredState(a: PodRecord, b: PodRecord): boolean {
  return (
    a.name === b.name &&
    a.namespace === b.namespace &&
    a.errorCode === b.errorCode &&
    a.errorMessage === b.errorMessage &&
    sameList([...a.ips].sort(), [...b.ips].sort()) &&
    sameAnnotations(a.annotations, b.annotations)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameAnnotations(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
