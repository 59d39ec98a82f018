// The pieces of the IP-reuse property test (ip-reuse.property.test.ts): a model cluster that
// turns random pod changes into watch events, a pod source that delivers them to the
// watcher's own pipeline in a scripted order, a pass-through store that counts writes in
// flight (and can fail one, as a Redis blip does), and what the watcher may know.
import {
  derivePodRecord,
  type IdentityStore,
  type LookupResult,
  type PodLike,
  type PodRecord,
} from '@podgate/identity';
import { type FakePod, podObject } from '@podgate/test-support';
import type { PodSink, PodSource, SourceHealth } from '@podgate/watcher';
import fc from 'fast-check';

/** Pod IPs: loopback addresses, plus one written the IPv4-mapped way. */
export const IP_POOL = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', 'fd00::7'] as const;
const SPELLINGS: Record<string, string[]> = { '127.0.0.3': ['127.0.0.3', '::ffff:127.0.0.3'] };
const NAMES = ['web', 'api', 'job'] as const;
const NAMESPACES = ['shop', 'batch'] as const;
const PHASES = ['Running', 'Pending', 'Succeeded', 'Failed'] as const;

export type ClusterOp =
  | { op: 'create'; name: number; namespace: number; ips: number[]; phase: number; hostNetwork: boolean }
  | { op: 'delete'; name: number; namespace: number }
  | { op: 'phase'; name: number; namespace: number; phase: number }
  | { op: 'hostNetwork'; name: number; namespace: number }
  | { op: 'reassign'; name: number; namespace: number; ips: number[] }
  | { op: 'annotate'; name: number; namespace: number; value: number }
  | { op: 'terminate'; name: number; namespace: number };

/**
 * How the next events reach the watcher. `next`: the following events in order; `replay`:
 * go back `back` events and deliver from there again (a watch resumed from an older
 * resourceVersion: duplicates); `relist`: a complete listing of the cluster now, after
 * which delivery goes on after it; `blip`: the store fails the next write (the writer then
 * reconciles from its view); `swap`: two events out of order (beyond what one watch does).
 */
export type Delivery =
  | { kind: 'next'; count: number }
  | { kind: 'replay'; back: number }
  | { kind: 'relist' }
  | { kind: 'blip'; count: number }
  | { kind: 'swap' };

const pod = { name: fc.nat(NAMES.length - 1), namespace: fc.nat(NAMESPACES.length - 1) };
const ips = fc.uniqueArray(fc.nat(IP_POOL.length - 1), { maxLength: 2 });

export const clusterOp: fc.Arbitrary<ClusterOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('create' as const),
      ...pod,
      ips,
      phase: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.nat(PHASES.length - 1)),
      hostNetwork: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), ...pod }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('phase' as const), ...pod, phase: fc.nat(PHASES.length - 1) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('hostNetwork' as const), ...pod }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reassign' as const), ...pod, ips }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('annotate' as const), ...pod, value: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('terminate' as const), ...pod }) },
);

export function delivery(hostile: boolean): fc.Arbitrary<Delivery> {
  const realistic: fc.WeightedArbitrary<Delivery>[] = [
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('next' as const), count: fc.integer({ min: 1, max: 3 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('replay' as const), back: fc.integer({ min: 1, max: 6 }) }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'relist' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('blip' as const), count: fc.integer({ min: 1, max: 2 }) }),
    },
  ];
  if (hostile) realistic.push({ weight: 2, arbitrary: fc.constant({ kind: 'swap' as const }) });
  return fc.oneof(...realistic);
}

export interface WatchEventRecord {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: FakePod;
}

/** The cluster as the API server holds it, and its history of watch events. */
export class ModelCluster {
  readonly pods = new Map<string, FakePod>();
  readonly events: WatchEventRecord[] = [];
  rv = 1000;
  private uids = 0;

  /** `recreate`: a create on a taken name deletes the pod there first (a new UID, same name). */
  constructor(private readonly recreate = true) {}

  apply(change: ClusterOp): void {
    const name = NAMES[change.name]!;
    const namespace = NAMESPACES[change.namespace]!;
    const key = `${namespace}/${name}`;
    const current = this.pods.get(key);
    if (change.op === 'create') {
      // A pod recreated under the same name: the old one is deleted first (a new UID).
      if (current && !this.recreate) return;
      if (current) this.emit('DELETED', key, current, true);
      const created = podObject({
        name,
        namespace,
        uid: `00000000-0000-4000-8000-${String(++this.uids).padStart(12, '0')}`,
        ips: change.ips.map((i) => spell(IP_POOL[i]!, this.uids)),
        phase: PHASES[change.phase]!,
        hostNetwork: change.hostNetwork,
        annotations: { 'k8s.ngrok.com/app': name, 'other.io/ignored': 'x' },
      });
      this.emit('ADDED', key, created);
      return;
    }
    if (!current) return;
    const next = structuredClone(current);
    next.status ??= {};
    next.spec ??= {};
    const { status, spec } = next;
    switch (change.op) {
      case 'delete':
        this.emit('DELETED', key, current, true);
        return;
      case 'phase':
        status.phase = PHASES[change.phase]!;
        break;
      case 'hostNetwork':
        spec.hostNetwork = spec.hostNetwork !== true;
        break;
      case 'reassign': {
        const list = change.ips.map((i) => spell(IP_POOL[i]!, this.rv));
        status.podIPs = list.map((ip) => ({ ip }));
        if (list[0]) status.podIP = list[0];
        else delete status.podIP;
        break;
      }
      case 'annotate':
        next.metadata.annotations = {
          ...next.metadata.annotations,
          'k8s.ngrok.com/rev': String(change.value),
        };
        break;
      case 'terminate':
        next.metadata.deletionTimestamp ??= '2026-12-07T00:00:00Z';
        break;
    }
    this.emit('MODIFIED', key, next);
  }

  private emit(type: WatchEventRecord['type'], key: string, object: FakePod, removed = false): void {
    const stamped = structuredClone(object);
    stamped.metadata.resourceVersion = String(++this.rv);
    if (removed) this.pods.delete(key);
    else this.pods.set(key, stamped);
    this.events.push({ rv: this.rv, type, pod: stamped });
  }
}

function spell(ip: string, salt: number): string {
  const spellings = SPELLINGS[ip];
  return spellings ? spellings[salt % spellings.length]! : ip;
}

export const derive = (pod: FakePod): PodRecord => derivePodRecord(pod as unknown as PodLike);

/**
 * What the watcher has been told, per UID: the newest state delivered (an event, or a
 * listing; a listing also says that every pod it lacks was gone by its version).
 */
export class Knowledge {
  private readonly byUid = new Map<string, { rv: number; gone: boolean; record: PodRecord | null }>();
  /** The newest complete listing: a pod it lacked was gone by then, even one never told of before. */
  private listedAt = 0;

  event(event: WatchEventRecord): void {
    const uid = event.pod.metadata.uid!;
    const held = this.byUid.get(uid);
    if (held && held.rv >= event.rv) return;
    if (!held && event.rv <= this.listedAt) return;
    const gone = event.type === 'DELETED';
    this.byUid.set(uid, { rv: event.rv, gone, record: gone ? null : derive(event.pod) });
  }

  listing(pods: readonly FakePod[], rv: number): void {
    const listed = new Set<string>();
    for (const p of pods) {
      listed.add(p.metadata.uid!);
      this.event({ rv: Number(p.metadata.resourceVersion), type: 'MODIFIED', pod: p });
    }
    for (const [uid, held] of this.byUid) {
      if (!listed.has(uid) && held.rv <= rv) this.byUid.set(uid, { rv, gone: true, record: null });
    }
    this.listedAt = Math.max(this.listedAt, rv);
  }

  /** The live pods that, as far as the watcher knows, own `ip`. */
  claimants(ip: string): PodRecord[] {
    const owners: PodRecord[] = [];
    for (const held of this.byUid.values()) if (held.record?.ips.includes(ip)) owners.push(held.record);
    return owners;
  }
}

/**
 * The earliest index from `from` whose replay re-delivers no event of a pod whose name a
 * different UID has taken in an event before `cursor` (see STALE_REPLAYS in the test).
 */
export function replayStart(events: readonly WatchEventRecord[], from: number, cursor: number): number {
  for (let i = cursor - 1; i >= from; i--) {
    const { namespace, name, uid } = events[i]!.pod.metadata;
    for (let later = i + 1; later < cursor; later++) {
      const m = events[later]!.pod.metadata;
      if (m.namespace === namespace && m.name === name && m.uid !== uid) return i + 1;
    }
  }
  return from;
}

/** The live pods of the cluster that own `ip` right now. */
export function truthClaimants(cluster: ModelCluster, ip: string): PodRecord[] {
  return [...cluster.pods.values()].map(derive).filter((r) => r.ips.includes(ip));
}

/** A lookup as a short string: `ns/name#uid`, or `!reason`. */
export function describe(result: LookupResult): string {
  return result.ok
    ? `${result.identity.namespace}/${result.identity.name}#${result.identity.uid}`
    : `!${result.reason}`;
}

/** The answer a lookup must give when these pods are the live claimants. */
export function expectedFor(claimants: readonly PodRecord[]): string {
  if (claimants.length === 0) return '!not_found';
  if (claimants.length > 1) return '!ambiguous';
  const r = claimants[0]!;
  return `${r.namespace}/${r.name}#${r.uid}`;
}

/** A pod source whose deliveries the test scripts: the watcher's sink is driven directly. */
export class ScriptedSource implements PodSource {
  readonly kind = 'kubernetes';
  sink: PodSink | null = null;

  constructor(private readonly initial: () => { records: PodRecord[]; rv: number }) {}

  start(sink: PodSink): void {
    this.sink = sink;
    const { records, rv } = this.initial();
    sink.listing(records, String(rv));
  }

  async stop(): Promise<void> {
    this.sink = null;
  }

  health(): SourceHealth {
    return { lastContactAt: Date.now(), failingSince: null, lastError: null };
  }
}

/**
 * The real store, with writes in flight counted (the test waits for none) and an injected
 * failure of the next N writes before they reach the store, as a dropped connection does.
 */
export class CountingStore {
  inFlight = 0;
  failNext = 0;
  failed = 0;

  constructor(readonly store: IdentityStore) {}

  readonly writer = {
    claim: (cluster: string, record: PodRecord) => this.track(() => this.store.claim(cluster, record)),
    release: (cluster: string, uid: string, rv: string) =>
      this.track(() => this.store.release(cluster, uid, rv)),
    reconcile: (cluster: string, records: PodRecord[], options?: { listingVersion?: string }) =>
      this.track(() => this.store.reconcile(cluster, records, options)),
    heartbeat: (cluster: string, ttlMs: number) => this.store.heartbeat(cluster, ttlMs),
    fence: (cluster: string, epoch: number) => this.store.fence(cluster, epoch),
  };

  private async track<T>(write: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      if (this.failNext > 0) {
        this.failNext--;
        this.failed++;
        throw new Error('injected store failure (a dropped connection)');
      }
      return await write();
    } finally {
      this.inFlight--;
    }
  }
}
