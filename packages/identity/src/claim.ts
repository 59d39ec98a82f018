// A claim: one pod's identity as found under one of its IPs. The Redis store keeps it in the
// pod's entry (encodeEntry); the memory store keeps the decoded form.
import { decodeCanonicalEntry } from './canonical-entry.js';
import { ERR_TOO_LARGE, type PodRecord } from './model.js';

export interface StoredClaim {
  resourceVersion: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  errorCode: '' | typeof ERR_TOO_LARGE;
  errorMessage: string;
}

/** A claim as found under an IP: its owner and, unless unreadable, its content. */
export interface ClaimEntry {
  cluster: string;
  uid: string;
  claim: StoredClaim | null;
}

/**
 * The claim a memory store keeps: frozen, annotations copied (the caller's record stays its
 * own), so every lookup that finds it can share it and what is derived from it.
 */
export function claimFromRecord(record: PodRecord): StoredClaim {
  return Object.freeze({
    resourceVersion: record.resourceVersion,
    name: record.name,
    namespace: record.namespace,
    annotations: Object.freeze({ ...record.annotations }),
    errorCode: record.errorCode,
    errorMessage: record.errorMessage,
  });
}

/**
 * A pod entry as the Redis store keeps it in `pods:{<cluster>}`: `{"v":rv,"g":0,"i":"ip1,ip2",
 * "n":name,"s":namespace,"a":{...},"e":code,"m":message}` (e and m only when set). v, g and i
 * come first, in that order: the store's Lua scripts read them by pattern without decoding the
 * annotations (redis-scripts.ts `meta`). `ips` must be canonical.
 */
export function encodeEntry(record: PodRecord, ips: readonly string[]): string {
  const compact: Record<string, unknown> = {
    v: record.resourceVersion,
    g: 0,
    i: ips.join(','),
    n: record.name,
    s: record.namespace,
    a: record.annotations,
  };
  if (record.errorCode !== '') {
    compact.e = record.errorCode;
    compact.m = record.errorMessage;
  }
  return JSON.stringify(compact);
}

/** A release tombstone: refuses claims of this pod that are not newer than `rv`. */
export function encodeTombstone(rv: string): string {
  return JSON.stringify({ v: rv, g: 1, i: '' });
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/** The identity in a live entry's `text`, or null when it is not one this code wrote. */
export function decodeEntry(text: string): StoredClaim | null {
  return decodeCanonicalEntry(text) ?? parseEntry(text);
}

/** decodeEntry through JSON.parse: any text (decodeCanonicalEntry takes the usual one faster). */
export function parseEntry(text: string): StoredClaim | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const o = raw as Record<string, unknown>;
  if (typeof o.v !== 'string' || typeof o.n !== 'string' || typeof o.s !== 'string') return null;
  const annotations = o.a ?? {};
  if (!isStringMap(annotations)) return null;
  const errorCode = o.e ?? '';
  if (errorCode !== '' && errorCode !== ERR_TOO_LARGE) return null;
  return {
    resourceVersion: o.v,
    name: o.n,
    namespace: o.s,
    annotations,
    errorCode,
    errorMessage: typeof o.m === 'string' ? o.m : '',
  };
}
