// The watcher's in-memory view of the cluster: one slim record per live pod, keyed by
// UID, plus namespace/name -> UID to notice a pod recreated under the same name.
// Pure: every change returns the store operations it calls for; no I/O here.
import type { PodRecord } from '@podgate/identity';
import { isOlder, newest } from './resource-version.js';

export type StoreOp =
  | { kind: 'claim'; record: PodRecord }
  | { kind: 'release'; uid: string; resourceVersion: string };

export type UpsertOutcome =
  | 'claimed' // new pod, or its identity/IPs changed
  | 'unchanged' // a newer version that changes nothing the store holds
  | 'stale' // older than (or equal to) what the view already holds
  | 'replaced'; // same name, new UID: old pod released, new one claimed

export class PodView {
  private byUid = new Map<string, PodRecord>();
  private readonly uidByKey = new Map<string, string>();

  get size(): number {
    return this.byUid.size;
  }

  /**
   * A complete listing replaces everything; the caller reconciles the store with
   * `records()` at the listing's version. Returns releases for the pods that vanished
   * since the previous view, at the listing's version: the reconcile removes their claims
   * but leaves no tombstone, and the release's tombstone refuses a late event for them.
   */
  replaceAll(records: readonly PodRecord[], listingVersion?: string): StoreOp[] {
    // The old map itself, not a copy (a copy is 100,000 entries of garbage per relist).
    const before = this.byUid;
    this.byUid = new Map();
    this.uidByKey.clear();
    for (const record of records) {
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
    return vanished;
  }

  upsert(record: PodRecord): { outcome: UpsertOutcome; ops: StoreOp[] } {
    const ops: StoreOp[] = [];
    const key = podKey(record);
    const heldUid = this.uidByKey.get(key);
    let replaced = false;
    if (heldUid !== undefined && heldUid !== record.uid) {
      // The name now belongs to a new pod, so the old one is gone (an informer keyed by
      // namespace/name reports this as an update). Release it at the new version, which is
      // newer than anything the old pod ever had.
      const old = this.byUid.get(heldUid);
      this.byUid.delete(heldUid);
      ops.push({
        kind: 'release',
        uid: heldUid,
        resourceVersion: old ? newest(old.resourceVersion, record.resourceVersion) : record.resourceVersion,
      });
      replaced = true;
    }
    const held = this.byUid.get(record.uid);
    if (held !== undefined && !isOlder(held.resourceVersion, record.resourceVersion)) {
      return { outcome: 'stale', ops };
    }
    this.byUid.set(record.uid, record);
    this.uidByKey.set(key, record.uid);
    if (held !== undefined && sameStoredState(held, record)) return { outcome: 'unchanged', ops };
    ops.push({ kind: 'claim', record });
    return { outcome: replaced ? 'replaced' : 'claimed', ops };
  }

  /**
   * The pod is gone. Its last state may be stale (an older copy than the view holds), so
   * release by UID, never by the IPs it lists, at the newest version either side knows.
   */
  remove(record: PodRecord): StoreOp[] {
    const held = this.byUid.get(record.uid);
    const version = held ? newest(held.resourceVersion, record.resourceVersion) : record.resourceVersion;
    this.byUid.delete(record.uid);
    const key = podKey(record);
    if (this.uidByKey.get(key) === record.uid) this.uidByKey.delete(key);
    return [{ kind: 'release', uid: record.uid, resourceVersion: version }];
  }

  records(): PodRecord[] {
    return [...this.byUid.values()];
  }

  get(uid: string): PodRecord | undefined {
    return this.byUid.get(uid);
  }
}

function podKey(record: PodRecord): string {
  return `${record.namespace}/${record.name}`;
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
