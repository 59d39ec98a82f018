// coordination.k8s.io/v1 Leases: get, create, replace (optimistic concurrency on
// metadata.resourceVersion; a conflict is a lost race, not an error).
import { WatcherError } from '../errors.js';
import type { KubeAccess } from '../sources/kube-access.js';
import { createKubeHttp, readBody, statusError } from '../sources/kube-http.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec: LeaseSpec;
}

export class LeaseConflict extends Error {
  override name = 'LeaseConflict';
}

/** Every call takes an abort signal: a hung API must not keep a leader from stepping down. */
export interface LeaseApi {
  get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease | null>;
  /** Throws LeaseConflict when it exists already. */
  create(namespace: string, lease: Lease, signal?: AbortSignal): Promise<Lease>;
  /** Throws LeaseConflict when `lease.metadata.resourceVersion` is not the current one. */
  replace(namespace: string, lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

export function createKubeLeaseApi(access: KubeAccess): LeaseApi {
  const http = createKubeHttp(access);
  const base = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases`;
  const call = async (
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<Lease | null> => {
    const res = await http.request(method, path, null, body, signal);
    const text = await readBody(res);
    if (res.statusCode === 404 && method === 'GET') return null;
    if (res.statusCode === 409) throw new LeaseConflict(text.slice(0, 200));
    if (res.statusCode !== 200 && res.statusCode !== 201) throw statusError(res.statusCode ?? 0, text);
    try {
      return JSON.parse(text) as Lease;
    } catch (error) {
      throw new WatcherError('kube_api_protocol', 'lease reply is not JSON', { cause: error });
    }
  };
  const withKind = (ns: string, lease: Lease): Lease => ({
    ...lease,
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...lease.metadata, namespace: ns },
  });
  return {
    get: (ns, name, signal) => call('GET', `${base(ns)}/${encodeURIComponent(name)}`, undefined, signal),
    create: async (ns, lease, signal) => (await call('POST', base(ns), withKind(ns, lease), signal))!,
    replace: async (ns, lease, signal) =>
      (await call(
        'PUT',
        `${base(ns)}/${encodeURIComponent(lease.metadata.name)}`,
        withKind(ns, lease),
        signal,
      ))!,
  };
}
