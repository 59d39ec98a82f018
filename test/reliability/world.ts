// The cluster the reliability suite runs against: pods on loopback addresses (each a pod IP a
// client can bind), changed only through this module so that it remembers, per IP, which pod
// owned it and when (the test process's performance.now()). That history is the oracle: an
// identity seen for an IP is right only if that pod owned the IP around the time it was seen.
import { type FakeK8sApi, podObject } from '@podgate/test-support';

export const ALLOWED_NAMESPACE = 'payments';
export const REFUSED_NAMESPACE = 'other';

export interface OwnedBy {
  uid: string;
  name: string;
  namespace: string;
  from: number;
  /** When the pod stopped owning the IP; undefined while it still does. */
  to?: number;
}

export interface Judgement {
  ok: boolean;
  /** How long before the lookup the pod had stopped owning the IP (0 when it owned it then). */
  staleMs: number;
}

/** 127.0.0.2 .. 127.0.0.(1 + count). */
export function ipPool(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
}

export class World {
  private readonly history = new Map<string, OwnedBy[]>();
  private readonly current = new Map<string, OwnedBy & { key: string }>();
  private serial = 0;
  /** Pods that finished and still exist in the API (deleted later by `sweepFinished`). */
  private finished: string[] = [];
  changes = 0;

  constructor(
    private readonly api: FakeK8sApi,
    readonly ips: readonly string[],
  ) {}

  /** The pod owning `ip` now, if any. */
  ownerOf(ip: string): OwnedBy | undefined {
    return this.current.get(ip);
  }

  freeIps(): string[] {
    return this.ips.filter((ip) => !this.current.has(ip));
  }

  ownedIps(): string[] {
    return this.ips.filter((ip) => this.current.has(ip));
  }

  /** A new Running pod on `ip` (which must be free), in `namespace`. */
  create(ip: string, namespace: string): OwnedBy {
    if (this.current.has(ip)) throw new Error(`${ip} is owned`);
    const name = `pod-${++this.serial}`;
    const pod = this.api.addPod(podObject({ name, namespace, ip }));
    const owned = { uid: pod.metadata.uid!, name, namespace, from: performance.now() };
    this.current.set(ip, { ...owned, key: `${namespace}/${name}` });
    const list = this.history.get(ip) ?? [];
    list.push(owned);
    this.history.set(ip, list);
    this.changes++;
    return owned;
  }

  /** Deletes the pod owning `ip`; the IP is free at once. */
  remove(ip: string): void {
    const owner = this.current.get(ip);
    if (owner === undefined) return;
    // The history entry ends before the API says so: a lookup after this moment that still
    // sees the pod is stale by the time since.
    const entry = this.history.get(ip)!.find((o) => o.uid === owner.uid && o.to === undefined)!;
    entry.to = performance.now();
    this.api.deletePod(owner.namespace, owner.name);
    this.current.delete(ip);
    this.changes++;
  }

  /** The IP's pod finishes (phase Succeeded): it keeps its podIP in status but no longer owns it. */
  finish(ip: string): void {
    const owner = this.current.get(ip);
    if (owner === undefined) return;
    const entry = this.history.get(ip)!.find((o) => o.uid === owner.uid && o.to === undefined)!;
    entry.to = performance.now();
    this.api.updatePod(owner.namespace, owner.name, (p) => {
      p.status = { ...p.status, phase: 'Succeeded' };
    });
    this.current.delete(ip);
    this.finished.push(owner.key);
    this.changes++;
  }

  sweepFinished(): void {
    for (const key of this.finished) {
      const [ns, name] = key.split('/') as [string, string];
      if (this.api.getPod(ns, name)) this.api.deletePod(ns, name);
    }
    this.finished = [];
  }

  /**
   * Whether `uid` (named `namespace/name`) may be the identity of `ip` for a lookup made within
   * [start, end]: that pod owned the IP at some moment of [start - lagMs, end]. `lagMs` allows for the watcher's
   * propagation delay (an event takes time to reach the store); staleMs says how much of it
   * was used.
   */
  judge(
    ip: string,
    uid: string,
    name: string,
    namespace: string,
    start: number,
    end: number,
    lagMs: number,
  ): Judgement {
    const spans = (this.history.get(ip) ?? []).filter(
      (o) => o.uid === uid && o.name === name && o.namespace === namespace,
    );
    if (spans.length === 0) return { ok: false, staleMs: Number.POSITIVE_INFINITY };
    let best = Number.POSITIVE_INFINITY;
    for (const span of spans) {
      if (span.from > end) continue;
      const stale = span.to === undefined || span.to >= start ? 0 : start - span.to;
      best = Math.min(best, stale);
    }
    return { ok: best <= lagMs, staleMs: best };
  }

  /** Whether some pod of `namespace` owned `ip` at a moment of [start - lagMs, end]. */
  ownedByNamespace(ip: string, namespace: string, start: number, end: number, lagMs: number): boolean {
    return (this.history.get(ip) ?? []).some(
      (o) => o.namespace === namespace && o.from <= end && (o.to === undefined || o.to >= start - lagMs),
    );
  }

  /** Whether `ip` had the same owner (or none) throughout [start - lagMs, end]: a lookup must then see it. */
  stableOwner(ip: string, start: number, end: number, lagMs: number): OwnedBy | null | 'changing' {
    const spans = (this.history.get(ip) ?? []).filter(
      (o) => o.from <= end && (o.to === undefined || o.to >= start - lagMs),
    );
    if (spans.length === 0) return null;
    if (spans.length === 1 && spans[0]!.from <= start - lagMs && spans[0]!.to === undefined) return spans[0]!;
    return 'changing';
  }
}

export type Change = 'create' | 'remove' | 'reassign' | 'finish';

/**
 * One random change: a pod created on a free address, removed, finished (Succeeded), or its
 * address handed at once to a new pod of the other namespace (IP reuse). `random` in [0, 1).
 */
export function randomChange(world: World, random: () => number = Math.random): Change {
  const owned = world.ownedIps();
  const free = world.freeIps();
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const namespace = () => (random() < 0.5 ? ALLOWED_NAMESPACE : REFUSED_NAMESPACE);
  const roll = random();
  if (free.length > 0 && (owned.length === 0 || roll < 0.3)) {
    world.create(pick(free), namespace());
    return 'create';
  }
  const ip = pick(owned);
  if (roll < 0.5) {
    world.remove(ip);
    return 'remove';
  }
  if (roll < 0.6) {
    world.finish(ip);
    return 'finish';
  }
  const before = world.ownerOf(ip)!.namespace;
  world.remove(ip);
  world.create(ip, before === ALLOWED_NAMESPACE ? REFUSED_NAMESPACE : ALLOWED_NAMESPACE);
  return 'reassign';
}
