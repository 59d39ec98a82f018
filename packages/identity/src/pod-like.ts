// The subset of a Kubernetes Pod that identity derivation reads. The watcher keeps these
// slim objects instead of whole pods (OpenTelemetry's k8sattributes lesson: full pods cost
// hundreds of MB at 10k pods). Field types are what Kubernetes sends; derivation still
// checks them at run time because pod YAML files and API replies are untrusted input.
import { MAX_POD_IPS, wellFormed } from './limits.js';

export interface PodLike {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    deletionTimestamp?: string | Date;
  };
  spec?: { hostNetwork?: boolean };
  status?: { phase?: string; podIP?: string; podIPs?: Array<{ ip?: string }> };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? wellFormed(v) : undefined);

/**
 * A map without a prototype: annotation keys are chosen by whoever creates pods, and a key
 * such as `__proto__` or `constructor` must stay an ordinary entry for every later reader.
 */
export function plainMap(entries: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/**
 * Copies only the fields derivation needs, dropping values of the wrong type. Never throws;
 * anything that is not an object gives `{}`.
 */
export function slimPod(pod: unknown): PodLike {
  if (!isRecord(pod)) return {};
  const slim: PodLike = {};
  if (typeof pod.apiVersion === 'string') slim.apiVersion = pod.apiVersion;
  if (typeof pod.kind === 'string') slim.kind = pod.kind;
  const meta = pod.metadata;
  if (isRecord(meta)) {
    const m: NonNullable<PodLike['metadata']> = {};
    const uid = str(meta.uid);
    const name = str(meta.name);
    const namespace = str(meta.namespace);
    const rv = str(meta.resourceVersion);
    if (uid !== undefined) m.uid = uid;
    if (name !== undefined) m.name = name;
    if (namespace !== undefined) m.namespace = namespace;
    if (rv !== undefined) m.resourceVersion = rv;
    const deletion = meta.deletionTimestamp;
    if (typeof deletion === 'string' || deletion instanceof Date) m.deletionTimestamp = deletion;
    if (isRecord(meta.annotations)) {
      const entries: Array<[string, string]> = [];
      for (const [key, value] of Object.entries(meta.annotations)) {
        if (typeof value === 'string') entries.push([wellFormed(key), wellFormed(value)]);
      }
      m.annotations = plainMap(entries);
    }
    slim.metadata = m;
  }
  if (isRecord(pod.spec) && typeof pod.spec.hostNetwork === 'boolean') {
    slim.spec = { hostNetwork: pod.spec.hostNetwork };
  }
  const status = pod.status;
  if (isRecord(status)) {
    const s: NonNullable<PodLike['status']> = {};
    const phase = str(status.phase);
    const podIP = str(status.podIP);
    if (phase !== undefined) s.phase = phase;
    if (podIP !== undefined) s.podIP = podIP;
    if (Array.isArray(status.podIPs)) {
      s.podIPs = status.podIPs
        .slice(0, MAX_POD_IPS)
        .filter(isRecord)
        .flatMap((e) => (typeof e.ip === 'string' ? [{ ip: e.ip }] : []));
    }
    slim.status = s;
  }
  return slim;
}
