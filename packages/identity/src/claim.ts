// A claim: one pod's identity stored under one IP. The compact JSON form is what the Redis
// store keeps in `ip:{<ip>}` hash fields; the memory store keeps the decoded form.
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

export function claimFromRecord(record: PodRecord): StoredClaim {
  return {
    resourceVersion: record.resourceVersion,
    name: record.name,
    namespace: record.namespace,
    annotations: record.annotations,
    errorCode: record.errorCode,
    errorMessage: record.errorMessage,
  };
}

/** `{"v":rv,"n":name,"s":namespace,"a":{...},"e":code,"m":message}`; e and m only when set. */
export function encodeClaim(record: PodRecord): string {
  const compact: Record<string, unknown> = {
    v: record.resourceVersion,
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

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/** The claim in `text`, or null when it is not one this code wrote. */
export function decodeClaim(text: string): StoredClaim | null {
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

/** Claims are filed under `<cluster>/<uid>`; cluster names never contain `/`. */
export function claimField(cluster: string, uid: string): string {
  return `${cluster}/${uid}`;
}

export function splitClaimField(field: string): { cluster: string; uid: string } | null {
  const slash = field.indexOf('/');
  if (slash <= 0) return null;
  return { cluster: field.slice(0, slash), uid: field.slice(slash + 1) };
}
