// The reference model of an IdentityStore (store.ts), pure: what a store may hold after a
// group of writes, some of them concurrent, and which lookup answers that allows. Used by the
// model-based test (store.model.suite.ts); the rules are the contract's, not one store's.
//
// Per cluster: an epoch register, a freshness flag and one pod-entry register per uid. Writes
// of one actor (one writer) run in program order; writes of different actors interleave.
// Each write is one atomic step on one uid (a claim or release: the rv gate), except a
// reconcile: one step per uid (claim the listed record, or drop an unlisted entry not newer
// than the bound), in any order. A write that carries an epoch below the stored one is refused.
// Where the order is not known, a register holds every value some order consistent with the
// observed outcomes gives (a `Cell` of possibilities). Uids are treated independently, which
// over-approximates (never rejects a legal store), and is exact for one atomic write at a time.
import { canonicalIps } from './ip.js';
import type { LookupResult, PodIdentity, PodRecord } from './model.js';
import { compareResourceVersions } from './resource-version.js';
import { reconcileBound } from './store.js';

/** A pod entry: the last accepted write of a pod. A tombstone has no record. */
export interface ModelEntry {
  rv: string;
  gone: boolean;
  /** The accepted record, IPs canonical (none: it owns no IP). null for a tombstone. */
  record: PodRecord | null;
}

/** The entries a uid's register may hold (null: no entry). Never empty. */
export type Cell = readonly (ModelEntry | null)[];

export interface ClusterModel {
  /** The stored writer epoch; known exactly (fences are single steps whose outcome is seen). */
  epoch: number;
  /** Whether the cluster's heartbeat may be live: [true], [false] or both. */
  fresh: readonly boolean[];
  pods: ReadonlyMap<string, Cell>;
}

export type StoreModel = ReadonlyMap<string, ClusterModel>;

const EMPTY_CLUSTER: ClusterModel = { epoch: 0, fresh: [false], pods: new Map() };

export const clusterModel = (model: StoreModel, cluster: string): ClusterModel =>
  model.get(cluster) ?? EMPTY_CLUSTER;

export type ModelOp =
  | { kind: 'claim'; cluster: string; record: PodRecord }
  | { kind: 'release'; cluster: string; uid: string; rv: string }
  | { kind: 'reconcile'; cluster: string; records: readonly PodRecord[]; listingVersion: string }
  /** `fresh: false` is a heartbeat whose TTL has run out by the next lookup. */
  | { kind: 'heartbeat'; cluster: string; fresh: boolean }
  | { kind: 'fence'; cluster: string; epoch: number };

export type Outcome =
  | { kind: 'ok' }
  | { kind: 'fenced' }
  /** A fence that found a higher stored epoch. */
  | { kind: 'refused'; epoch: number }
  /** The writer died during it: any part of it, or none, may have been applied. */
  | { kind: 'crashed' }
  | { kind: 'not-run' };

/** One writer's writes in program order, with the epochs it carried before the first. */
export interface ModelActor {
  epochs: ReadonlyMap<string, number>;
  ops: ReadonlyArray<{ op: ModelOp; outcome: Outcome }>;
}

/** The store reported outcomes no order of the writes can give. */
export class ModelViolation extends Error {
  override readonly name = 'ModelViolation';
}

// --- the per-uid register -------------------------------------------------------------

/** The gate of claim and release: no entry, a newer rv, or an equal rv over a live entry. */
function accepts(entry: ModelEntry | null, rv: string): boolean {
  if (entry === null) return true;
  const order = compareResourceVersions(rv, entry.rv);
  return !(order === -1 || (order === 0 && entry.gone));
}

type Step = (entry: ModelEntry | null) => ModelEntry | null;

function claimStep(record: PodRecord): Step {
  const stored: PodRecord = { ...record, ips: canonicalIps(record.ips) };
  return (entry) =>
    accepts(entry, record.resourceVersion)
      ? { rv: record.resourceVersion, gone: false, record: stored }
      : entry;
}

function releaseStep(rv: string): Step {
  return (entry) => (accepts(entry, rv) ? { rv, gone: true, record: null } : entry);
}

/** Reconcile's drop of an unlisted entry: kept only when newer than the bound. */
function dropStep(bound: string): Step {
  return (entry) => (entry === null || compareResourceVersions(bound, entry.rv) === -1 ? entry : null);
}

const sortedAnnotations = (a: Record<string, string>) =>
  Object.keys(a)
    .sort()
    .map((k) => [k, a[k]]);

function entryKey(entry: ModelEntry | null): string {
  if (entry === null) return '-';
  const r = entry.record;
  return JSON.stringify([
    entry.rv,
    entry.gone,
    r && [
      r.name,
      r.namespace,
      sortedAnnotations(r.annotations),
      r.errorCode,
      r.errorMessage,
      [...r.ips].sort(),
    ],
  ]);
}

function dedupe(entries: Iterable<ModelEntry | null>): Cell {
  const byKey = new Map<string, ModelEntry | null>();
  for (const e of entries) byKey.set(entryKey(e), e);
  return [...byKey.values()];
}

// --- a group of writes ---------------------------------------------------------------

interface Event {
  actor: number;
  /** Program order within the actor (a reconcile's steps share their op's). */
  seq: number;
  kind: 'fence' | 'write' | 'step' | 'heartbeat';
  /** The epoch the write carries, or the epoch a fence raises to. */
  epoch: number;
  outcome: Outcome;
  uid?: string;
  step?: Step;
  fresh?: boolean;
}

interface ClusterEvents {
  fences: Event[];
  heartbeats: Event[];
  /** Writes and reconcile steps, by uid. */
  byUid: Map<string, Event[]>;
  /** Reconciles, for the steps of uids no other event names. */
  reconciles: Array<{
    actor: number;
    seq: number;
    epoch: number;
    outcome: Outcome;
    steps: (uid: string) => Step;
  }>;
}

function eventsOf(actors: readonly ModelActor[]): Map<string, ClusterEvents> {
  const out = new Map<string, ClusterEvents>();
  const of = (c: string) => {
    let e = out.get(c);
    if (e === undefined) {
      e = { fences: [], heartbeats: [], byUid: new Map(), reconciles: [] };
      out.set(c, e);
    }
    return e;
  };
  actors.forEach((actor, a) => {
    const epochs = new Map(actor.epochs);
    actor.ops.forEach(({ op, outcome }, seq) => {
      if (outcome.kind === 'not-run') return;
      const events = of(op.cluster);
      const epoch = epochs.get(op.cluster) ?? 0;
      const base = { actor: a, seq, outcome };
      switch (op.kind) {
        case 'fence':
          if (outcome.kind === 'crashed') throw new ModelViolation('a fence with no outcome is not modelled');
          events.fences.push({ ...base, kind: 'fence', epoch: op.epoch });
          if (outcome.kind === 'ok') epochs.set(op.cluster, op.epoch);
          return;
        case 'heartbeat':
          events.heartbeats.push({ ...base, kind: 'heartbeat', epoch, fresh: op.fresh });
          return;
        case 'claim':
        case 'release': {
          const uid = op.kind === 'claim' ? op.record.uid : op.uid;
          const step = op.kind === 'claim' ? claimStep(op.record) : releaseStep(op.rv);
          const list = events.byUid.get(uid) ?? [];
          list.push({ ...base, kind: 'write', epoch, uid, step });
          events.byUid.set(uid, list);
          return;
        }
        case 'reconcile': {
          const listed = new Map(op.records.map((r) => [r.uid, claimStep(r)]));
          const drop = dropStep(reconcileBound(op.records, op.listingVersion));
          events.reconciles.push({ ...base, epoch, steps: (uid) => listed.get(uid) ?? drop });
          for (const uid of listed.keys()) if (!events.byUid.has(uid)) events.byUid.set(uid, []);
          return;
        }
      }
    });
  });
  return out;
}

/** Every order of `events` that keeps each actor's program order. */
function* interleavings(events: readonly Event[]): Generator<Event[]> {
  const chains = new Map<number, Event[]>();
  for (const e of events) chains.set(e.actor, [...(chains.get(e.actor) ?? []), e]);
  const lists = [...chains.values()].map((l) => l.sort((x, y) => x.seq - y.seq));
  const at = lists.map(() => 0);
  const order: Event[] = [];
  function* walk(): Generator<Event[]> {
    if (order.length === events.length) {
      yield [...order];
      return;
    }
    for (let i = 0; i < lists.length; i++) {
      const e = lists[i]![at[i]!];
      if (e === undefined) continue;
      at[i]!++;
      order.push(e);
      yield* walk();
      order.pop();
      at[i]!--;
    }
  }
  yield* walk();
}

/**
 * Runs one order: the epoch register, and `values` through each accepted event's `apply`.
 * Returns the values after it, or null when the observed outcomes rule this order out.
 */
function simulate<T>(
  order: readonly Event[],
  epoch: number,
  values: readonly T[],
  apply: (e: Event, v: T) => T,
  key: (v: T) => string,
): T[] | null {
  let stored = epoch;
  let current = [...values];
  for (const e of order) {
    if (e.kind === 'fence') {
      if (e.outcome.kind === 'ok') {
        if (stored > e.epoch) return null;
        stored = e.epoch;
      } else if (e.outcome.kind !== 'refused' || stored <= e.epoch || stored !== e.outcome.epoch) {
        return null;
      }
      continue;
    }
    const accepted = e.epoch >= stored;
    const k = e.outcome.kind;
    const mustApply = k === 'ok';
    const mayApply = mustApply || ((k === 'crashed' || (k === 'fenced' && e.kind === 'step')) && accepted);
    if (mustApply && !accepted) return null;
    if (k === 'fenced' && e.kind !== 'step' && accepted) return null;
    if (!mayApply) continue;
    const applied = current.map((v) => apply(e, v));
    if (mustApply) current = applied;
    else {
      const seen = new Map<string, T>();
      for (const v of [...current, ...applied]) seen.set(key(v), v);
      current = [...seen.values()];
    }
  }
  return current;
}

/** Every value `values` may reach through `events` (and the cluster's fences). */
function reachable<T>(
  events: readonly Event[],
  epoch: number,
  values: readonly T[],
  apply: (e: Event, v: T) => T,
  key: (v: T) => string,
  what: string,
): T[] {
  const seen = new Map<string, T>();
  let consistent = false;
  for (const order of interleavings(events)) {
    const out = simulate(order, epoch, values, apply, key);
    if (out === null) continue;
    consistent = true;
    for (const v of out) seen.set(key(v), v);
  }
  if (!consistent) throw new ModelViolation(`no order of the writes gives the outcomes observed (${what})`);
  return [...seen.values()];
}

/** A write refused as fenced needs a stored epoch above its own at some point. */
function checkFencedOutcomes(cluster: string, ev: ClusterEvents, epoch: number): void {
  const raised = Math.max(epoch, ...ev.fences.filter((f) => f.outcome.kind === 'ok').map((f) => f.epoch));
  const writes = [...ev.heartbeats, ...[...ev.byUid.values()].flat(), ...ev.reconciles];
  for (const w of writes) {
    if (w.outcome.kind === 'fenced' && raised <= w.epoch) {
      throw new ModelViolation(
        `a write to ${cluster} at epoch ${w.epoch} was refused as fenced, but the epoch never exceeded ${raised}`,
      );
    }
  }
}

/**
 * The model after `actors` ran concurrently (one actor: sequentially), given each op's
 * observed outcome. Throws ModelViolation when no order gives those outcomes.
 */
export function applyGroup(model: StoreModel, actors: readonly ModelActor[]): StoreModel {
  const next = new Map(model);
  for (const [cluster, ev] of eventsOf(actors)) {
    const before = clusterModel(model, cluster);
    checkFencedOutcomes(cluster, ev, before.epoch);
    reachable(ev.fences, before.epoch, [0], (_e, v) => v, String, `fences of ${cluster}`);
    const fresh = reachable(
      [...ev.fences, ...ev.heartbeats],
      before.epoch,
      before.fresh,
      (e, v) => e.fresh ?? v,
      String,
      `heartbeats of ${cluster}`,
    );
    const pods = new Map(before.pods);
    const uids = new Set([...before.pods.keys(), ...ev.byUid.keys()]);
    for (const uid of uids) {
      const own = ev.byUid.get(uid) ?? [];
      const steps: Event[] = ev.reconciles.map((r) => ({ ...r, kind: 'step', uid, step: r.steps(uid) }));
      if (own.length === 0 && steps.length === 0) continue;
      const cell = reachable(
        [...ev.fences, ...own, ...steps],
        before.epoch,
        before.pods.get(uid) ?? [null],
        (e, v) => e.step!(v),
        entryKey,
        `pod ${cluster}/${uid}`,
      );
      const kept = dedupe(cell);
      if (kept.length === 1 && kept[0] === null) pods.delete(uid);
      else pods.set(uid, kept);
    }
    const oks = ev.fences.filter((f) => f.outcome.kind === 'ok').map((f) => f.epoch);
    next.set(cluster, { epoch: Math.max(before.epoch, ...oks), fresh, pods });
  }
  return next;
}

// --- lookups -------------------------------------------------------------------------

export function identityKey(identity: PodIdentity): string {
  const i = identity;
  return `ok:${JSON.stringify([i.cluster, i.uid, i.name, i.namespace, sortedAnnotations(i.annotations), i.errorCode, i.errorMessage])}`;
}

/** A lookup result as the model compares it: the whole identity, or the reason. */
export const lookupKey = (result: LookupResult): string =>
  result.ok ? identityKey(result.identity) : result.reason;

const recordIdentity = (cluster: string, r: PodRecord): string =>
  identityKey({
    cluster,
    uid: r.uid,
    name: r.name,
    namespace: r.namespace,
    annotations: r.annotations,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
  });

/** What a uid's possible entries make of `ip`: its identity (it claims it) or null. */
function claimsOn(cluster: string, cell: Cell, ip: string): Set<string | null> {
  const out = new Set<string | null>();
  for (const e of cell) {
    out.add(e?.record?.ips.includes(ip) ? recordIdentity(cluster, e.record) : null);
  }
  return out;
}

const MANY = '*';

/**
 * Every answer `lookup(ip, clusters)` may give (lookupKey form), `ip` canonical: the
 * claimants of the consulted fresh clusters decide (resolve.ts): one -> its identity, two
 * or more -> ambiguous, none -> stale_cluster if a consulted cluster is stale, else not_found.
 */
export function possibleLookups(model: StoreModel, ip: string, clusters: readonly string[]): Set<string> {
  if (clusters.length === 0) return new Set(['not_found']);
  // States: [owner ('' none, MANY, or an identity key), some consulted cluster stale].
  let states = new Map<string, [string, boolean]>([['|0', ['', false]]]);
  const add = (into: Map<string, [string, boolean]>, owner: string, stale: boolean) =>
    into.set(`${owner}|${stale ? 1 : 0}`, [owner, stale]);
  for (const cluster of new Set(clusters)) {
    const cm = clusterModel(model, cluster);
    const claimants = [...cm.pods.values()].map((cell) => claimsOn(cluster, cell, ip));
    const next = new Map<string, [string, boolean]>();
    for (const [owner, stale] of states.values()) {
      for (const fresh of cm.fresh) {
        if (!fresh) {
          add(next, owner, true);
          continue;
        }
        let owners = new Set([owner]);
        for (const options of claimants) {
          const grown = new Set<string>();
          for (const o of owners) {
            for (const claim of options) grown.add(claim === null ? o : o === '' ? claim : MANY);
          }
          owners = grown;
        }
        for (const o of owners) add(next, o, stale);
      }
    }
    states = next;
  }
  const out = new Set<string>();
  for (const [owner, stale] of states.values()) {
    out.add(owner === MANY ? 'ambiguous' : owner !== '' ? owner : stale ? 'stale_cluster' : 'not_found');
  }
  return out;
}

/** The uids of `cluster` that some possible state holds live on `ip` (canonical). */
export function possibleOwners(model: StoreModel, ip: string, cluster: string): Set<string> {
  const out = new Set<string>();
  for (const [uid, cell] of clusterModel(model, cluster).pods) {
    if (cell.some((e) => e?.record?.ips.includes(ip))) out.add(uid);
  }
  return out;
}

/** Whether every register of `cluster` (and its freshness) holds one known value. */
export function isCertain(model: StoreModel, cluster: string): boolean {
  const cm = clusterModel(model, cluster);
  return cm.fresh.length === 1 && [...cm.pods.values()].every((cell) => cell.length === 1);
}

/** A short text of the model, for failure reports. */
export function describeModel(model: StoreModel): string {
  const lines: string[] = [];
  for (const [cluster, cm] of [...model].sort(([a], [b]) => a.localeCompare(b))) {
    const pods = [...cm.pods]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([uid, cell]) => `${uid}=${cell.map(describeEntry).join('|')}`);
    lines.push(`${cluster}: epoch ${cm.epoch}, fresh ${cm.fresh.join('|')}, ${pods.join(' ') || 'no pods'}`);
  }
  return lines.join('\n');
}

function describeEntry(e: ModelEntry | null): string {
  if (e === null) return '(none)';
  if (e.gone) return `gone@${e.rv}`;
  return `${e.rv}[${e.record?.ips.join(',') ?? ''}]`;
}
