// Pod -> PodRecord: the identity a pod contributes and the IPs it owns. Pure.
import { IdentityError } from './errors.js';
import { tryNormalizeIp } from './ip.js';
import {
  DEFAULT_ANNOTATION_PREFIXES,
  MAX_ANNOTATION_BYTES,
  MAX_ID_BYTES,
  MAX_NAME_BYTES,
  MAX_NAMESPACE_BYTES,
  MAX_POD_IPS,
  utf8Bytes,
} from './limits.js';
import { ERR_TOO_LARGE, type PodRecord } from './model.js';
import { type PodLike, plainMap, slimPod } from './pod-like.js';

export interface DeriveOptions {
  /** Annotation key prefixes surfaced as `conn.k8s.pod.metadata.annotations`. */
  annotationPrefixes?: readonly string[];
}

const TOO_LARGE_PREFIX = 'Pod identity metadata too large: ';
/** Phases in which a pod no longer owns its IP (Job pods keep `status.podIP` after they finish). */
const TERMINAL_PHASES = new Set(['Succeeded', 'Failed']);

/**
 * Derives the record of one pod. Tolerates malformed input (values of the wrong type are
 * ignored); throws `invalid_pod` only when uid, name or namespace is missing.
 *
 * - IPs: every valid IP of `status.podIPs`, else `status.podIP`; canonical, deduplicated.
 *   None for `hostNetwork: true` (the node's IP) and for phases Succeeded/Failed.
 *   A terminating pod (deletionTimestamp set) keeps its IPs until it is deleted.
 * - Annotations over the 1024-byte budget: keys are sorted by UTF-8 byte order and each
 *   entry is kept if it still fits (greedy, so a later small entry can fit after a large
 *   one was skipped); the same pod always gives the same subset. errorCode ERR_NGROK_28000.
 * - uid, name or namespace over its limit (Kubernetes validation makes this rare): the
 *   record owns NO IPs (a truncated name could read as another pod's identity), and
 *   carries ERR_NGROK_28000 with a message naming the field.
 */
export function derivePodRecord(pod: PodLike, options: DeriveOptions = {}): PodRecord {
  const slim = slimPod(pod);
  const meta = slim.metadata ?? {};
  const missing = (['uid', 'name', 'namespace'] as const).filter((f) => !meta[f]);
  if (missing.length > 0) {
    throw new IdentityError('invalid_pod', `pod has no metadata.${missing.join(', metadata.')}`);
  }
  const uid = meta.uid!;
  const name = meta.name!;
  const namespace = meta.namespace!;
  const prefixes = options.annotationPrefixes ?? DEFAULT_ANNOTATION_PREFIXES;
  const annotations = selectAnnotations(meta.annotations ?? {}, prefixes);
  let errorCode: PodRecord['errorCode'] = annotations.total > MAX_ANNOTATION_BYTES ? ERR_TOO_LARGE : '';
  let errorMessage =
    errorCode === ''
      ? ''
      : `${TOO_LARGE_PREFIX}annotations exceed the ${MAX_ANNOTATION_BYTES}-byte limit (${annotations.total} bytes)`;

  const oversized = oversizedField(uid, name, namespace);
  if (oversized !== null) {
    errorCode = ERR_TOO_LARGE;
    errorMessage = `${TOO_LARGE_PREFIX}${oversized}`;
  }
  return {
    uid,
    name: truncateUtf8(name, MAX_NAME_BYTES),
    namespace: truncateUtf8(namespace, MAX_NAMESPACE_BYTES),
    annotations: annotations.kept,
    errorCode,
    errorMessage,
    ips: oversized === null ? ownedIps(slim) : [],
    resourceVersion: meta.resourceVersion ?? '',
  };
}

function oversizedField(uid: string, name: string, namespace: string): string | null {
  const checks: Array<[string, string, number]> = [
    ['id', uid, MAX_ID_BYTES],
    ['name', name, MAX_NAME_BYTES],
    ['namespace', namespace, MAX_NAMESPACE_BYTES],
  ];
  for (const [field, value, limit] of checks) {
    const bytes = utf8Bytes(value);
    if (bytes > limit) return `${field} exceeds the ${limit}-byte limit (${bytes} bytes)`;
  }
  return null;
}

function ownedIps(pod: PodLike): string[] {
  if (pod.spec?.hostNetwork === true) return [];
  const status = pod.status ?? {};
  if (status.phase !== undefined && TERMINAL_PHASES.has(status.phase)) return [];
  // slimPod bounds the list already; derivation may be handed a PodLike built elsewhere.
  const listed = (status.podIPs ?? []).slice(0, MAX_POD_IPS).map((e) => e.ip ?? '');
  const candidates = listed.length > 0 ? listed : status.podIP ? [status.podIP] : [];
  const ips: string[] = [];
  for (const candidate of candidates) {
    const ip = tryNormalizeIp(candidate);
    if (ip !== null && !ips.includes(ip)) ips.push(ip);
  }
  return ips;
}

function selectAnnotations(
  all: Record<string, string>,
  prefixes: readonly string[],
): { kept: Record<string, string>; total: number } {
  const entries: Array<{ key: string; value: string; keyBytes: Buffer; size: number }> = [];
  for (const [key, value] of Object.entries(all)) {
    if (typeof value !== 'string' || !prefixes.some((p) => key.startsWith(p))) continue;
    const keyBytes = Buffer.from(key, 'utf8');
    entries.push({ key, value, keyBytes, size: keyBytes.length + utf8Bytes(value) });
  }
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total <= MAX_ANNOTATION_BYTES) {
    return { kept: plainMap(entries.map((e) => [e.key, e.value])), total };
  }
  // Byte order, not UTF-16 order: the subset must not depend on the language that computes it.
  entries.sort((a, b) => Buffer.compare(a.keyBytes, b.keyBytes));
  const kept: Array<[string, string]> = [];
  let used = 0;
  for (const e of entries) {
    if (used + e.size > MAX_ANNOTATION_BYTES) continue;
    kept.push([e.key, e.value]);
    used += e.size;
  }
  return { kept: plainMap(kept), total };
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = utf8Bytes(ch);
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}
