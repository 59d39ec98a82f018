// The ground truth of the model-based store test: pods per cluster, changed the way the
// Kubernetes API changes them (each change a new resourceVersion from one counter, like
// etcd), each cluster's history of watch events, and a complete listing at any point of that
// history. Records are derived by the package's own derivePodRecord. Pure.
import { derivePodRecord } from './derive.js';
import { tryNormalizeIp } from './ip.js';
import type { PodRecord } from './model.js';
import type { PodLike } from './pod-like.js';

/** Pod IPs as pods get them; one IPv4 spelled IPv4-mapped, the IPv6 not in canonical form. */
const V4_SPELLINGS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '::ffff:10.0.0.5'];
const V6_SPELLING = 'FD00:0:0::1';
/** Every address of the pool, and one more spelling of one of them, as readers ask. */
export const LOOKUP_IPS = [
  '10.0.0.1',
  '10.0.0.2',
  '10.0.0.3',
  '10.0.0.4',
  '10.0.0.5',
  'fd00::1',
  '::ffff:10.0.0.2',
];
export const CLUSTERS = ['a', 'b'] as const;
/** Live pods per cluster, and pods ever created per cluster (the uid pool). */
const MAX_LIVE = 4;
const MAX_CREATED = 9;

export interface WorldPod {
  uid: string;
  name: string;
  rv: string;
  phase: 'Running' | 'Succeeded' | 'Failed';
  hostNetwork: boolean;
  ips: string[];
  /** Changes with `annotate`: the identity's content at this version. */
  revision: number;
  /** Annotations over the 1024-byte budget (ERR_NGROK_28000). */
  oversized: boolean;
}

export type WorldEvent = { type: 'put'; record: PodRecord } | { type: 'delete'; uid: string; rv: string };

export interface Listing {
  records: PodRecord[];
  listingVersion: string;
  /** The history index the listing is complete up to: a watch from it sees the rest. */
  at: number;
}

interface ClusterWorld {
  pods: Map<string, WorldPod>;
  history: WorldEvent[];
  /** After the first i events: the pods' records and the resourceVersion then. */
  snapshots: Array<{ records: PodRecord[]; version: string }>;
  created: number;
}

export interface IpChoice {
  /** Index into the pool (of the free addresses unless `reuse`). */
  pick: number;
  /** Also the IPv6 address (dual stack). */
  dual: boolean;
  /** Take the address even if a live pod of the cluster has it (overlapping reuse). */
  reuse: boolean;
}

function toPodLike(cluster: string, pod: WorldPod): PodLike {
  const annotations: Record<string, string> = {
    'k8s.ngrok.com/revision': String(pod.revision),
    'example.com/not-surfaced': 'x',
  };
  if (pod.oversized) annotations['k8s.ngrok.com/blob'] = 'x'.repeat(1100);
  return {
    metadata: {
      uid: pod.uid,
      name: pod.name,
      namespace: `ns-${cluster}`,
      resourceVersion: pod.rv,
      annotations,
    },
    spec: { hostNetwork: pod.hostNetwork },
    status: { phase: pod.phase, podIP: pod.ips[0] ?? '', podIPs: pod.ips.map((ip) => ({ ip })) },
  };
}

export class World {
  private rv = 0;
  private readonly clusters = new Map<string, ClusterWorld>();

  constructor() {
    for (const c of CLUSTERS) {
      this.clusters.set(c, {
        pods: new Map(),
        history: [],
        snapshots: [{ records: [], version: '0' }],
        created: 0,
      });
    }
  }

  private of(cluster: string): ClusterWorld {
    const w = this.clusters.get(cluster);
    if (w === undefined) throw new Error(`no cluster ${cluster} in the world`);
    return w;
  }

  record(cluster: string, pod: WorldPod): PodRecord {
    return derivePodRecord(toPodLike(cluster, pod));
  }

  private bump(): string {
    this.rv++;
    return String(this.rv);
  }

  private commit(cluster: string, event: WorldEvent): void {
    const w = this.of(cluster);
    w.history.push(event);
    const records = [...w.pods.values()].map((p) => this.record(cluster, p));
    w.snapshots.push({ records, version: String(this.rv) });
  }

  private put(cluster: string, pod: WorldPod): void {
    this.of(cluster).pods.set(pod.uid, pod);
    this.commit(cluster, { type: 'put', record: this.record(cluster, pod) });
  }

  /** Live pods, by uid; `pick` selects one (modulo their number). */
  private pick(cluster: string, pick: number): WorldPod | undefined {
    const pods = [...this.of(cluster).pods.values()].sort((x, y) => x.uid.localeCompare(y.uid));
    return pods.length === 0 ? undefined : pods[pick % pods.length];
  }

  private chooseIps(cluster: string, choice: IpChoice, except?: WorldPod): string[] {
    const taken = new Set<string>();
    for (const p of this.of(cluster).pods.values()) {
      if (p === except || p.phase !== 'Running' || p.hostNetwork) continue;
      for (const ip of p.ips) taken.add(tryNormalizeIp(ip) ?? ip);
    }
    const free = V4_SPELLINGS.filter((ip) => !taken.has(tryNormalizeIp(ip)!));
    const from = choice.reuse || free.length === 0 ? V4_SPELLINGS : free;
    const ips = [from[choice.pick % from.length]!];
    if (choice.dual) ips.push(V6_SPELLING);
    return ips;
  }

  /** Each mutation returns what it did, or null when it does not apply (a no-op). */
  create(cluster: string, choice: IpChoice, oversized: boolean): string | null {
    const w = this.of(cluster);
    if (w.pods.size >= MAX_LIVE || w.created >= MAX_CREATED) return null;
    w.created++;
    const uid = `u${w.created}`;
    const pod: WorldPod = {
      uid,
      name: `web-${w.created}`,
      rv: this.bump(),
      phase: 'Running',
      hostNetwork: false,
      ips: this.chooseIps(cluster, choice),
      revision: 0,
      oversized,
    };
    this.put(cluster, pod);
    return `${cluster}/${uid} created @${pod.rv} on ${pod.ips.join(',')}`;
  }

  delete(cluster: string, pick: number): string | null {
    const pod = this.pick(cluster, pick);
    if (pod === undefined) return null;
    const rv = this.bump();
    this.of(cluster).pods.delete(pod.uid);
    this.commit(cluster, { type: 'delete', uid: pod.uid, rv });
    return `${cluster}/${pod.uid} deleted @${rv}`;
  }

  /** Succeeded or Failed: the pod keeps status.podIP but owns it no more. */
  finish(cluster: string, pick: number, phase: 'Succeeded' | 'Failed'): string | null {
    const pod = this.pick(cluster, pick);
    if (pod === undefined || pod.phase !== 'Running') return null;
    this.put(cluster, { ...pod, phase, rv: this.bump() });
    return `${cluster}/${pod.uid} ${phase} @${this.rv}`;
  }

  move(cluster: string, pick: number, choice: IpChoice): string | null {
    const pod = this.pick(cluster, pick);
    if (pod === undefined) return null;
    const ips = this.chooseIps(cluster, choice, pod);
    this.put(cluster, { ...pod, ips, rv: this.bump() });
    return `${cluster}/${pod.uid} moved to ${ips.join(',')} @${this.rv}`;
  }

  flipHostNetwork(cluster: string, pick: number): string | null {
    const pod = this.pick(cluster, pick);
    if (pod === undefined) return null;
    this.put(cluster, { ...pod, hostNetwork: !pod.hostNetwork, rv: this.bump() });
    return `${cluster}/${pod.uid} hostNetwork=${!pod.hostNetwork} @${this.rv}`;
  }

  annotate(cluster: string, pick: number): string | null {
    const pod = this.pick(cluster, pick);
    if (pod === undefined) return null;
    this.put(cluster, { ...pod, revision: pod.revision + 1, rv: this.bump() });
    return `${cluster}/${pod.uid} annotated @${this.rv}`;
  }

  /** Deleted, then created again under the same name with a new uid (a StatefulSet pod). */
  recreate(cluster: string, pick: number, sameIps: boolean): string | null {
    const w = this.of(cluster);
    const pod = this.pick(cluster, pick);
    if (pod === undefined || w.created >= MAX_CREATED) return null;
    const gone = this.delete(cluster, pick)!;
    w.created++;
    const next: WorldPod = {
      ...pod,
      uid: `u${w.created}`,
      rv: this.bump(),
      phase: 'Running',
      revision: 0,
      ips: sameIps ? pod.ips : this.chooseIps(cluster, { pick: w.created, dual: false, reuse: false }),
    };
    this.put(cluster, next);
    return `${gone}; ${cluster}/${next.uid} (${pod.name}) created @${next.rv} on ${next.ips.join(',')}`;
  }

  history(cluster: string): readonly WorldEvent[] {
    return this.of(cluster).history;
  }

  /** The complete listing `back` events before the end of the history. */
  listing(cluster: string, back = 0): Listing {
    const w = this.of(cluster);
    const at = Math.max(0, w.history.length - back);
    const snap = w.snapshots[at]!;
    return { records: snap.records, listingVersion: snap.version, at };
  }

  /** The world's answer for `ip` (canonical): the live pods of `clusters` that own it. */
  owners(ip: string, clusters: readonly string[]): Array<{ cluster: string; record: PodRecord }> {
    const out: Array<{ cluster: string; record: PodRecord }> = [];
    for (const c of new Set(clusters)) {
      for (const pod of this.of(c).pods.values()) {
        const record = this.record(c, pod);
        if (record.ips.includes(ip)) out.push({ cluster: c, record });
      }
    }
    return out;
  }
}
