// The identity model shared by the watcher (writer), the stores and every reader
// (proxy, decision service, `podgate eval`). Field names follow the seed's `conn.k8s.pod.*`.

/** The two error codes of ngrok's pod identity feature; there are no others. */
export const ERR_TOO_LARGE = 'ERR_NGROK_28000';
export const ERR_NOT_FOUND = 'ERR_NGROK_28001';

/** What one pod contributes to the store: its identity and the IPs it owns. */
export interface PodRecord {
  /** `metadata.uid`, at most 36 bytes. */
  uid: string;
  /** `metadata.name`, at most 255 bytes. */
  name: string;
  /** `metadata.namespace`, at most 63 bytes. */
  namespace: string;
  /** Annotations whose key starts with a configured prefix, within the 1024-byte budget. */
  annotations: Record<string, string>;
  /** `''` or `ERR_NGROK_28000` when the annotations had to be truncated. */
  errorCode: '' | typeof ERR_TOO_LARGE;
  errorMessage: string;
  /** Canonical IPs the pod owns right now (empty: it owns none and must be released). */
  ips: string[];
  /**
   * `metadata.resourceVersion` of the pod object this record was derived from. Used to
   * refuse an older write replacing a newer one for the same pod. Opaque to Kubernetes;
   * compared numerically when both sides are decimal integers (etcd revisions), else
   * treated as "newer".
   */
  resourceVersion: string;
}

/** A pod identity as a reader sees it: a record plus the cluster it came from. */
export interface PodIdentity {
  cluster: string;
  uid: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  errorCode: '' | typeof ERR_TOO_LARGE;
  errorMessage: string;
}

/** Why a lookup gave no identity. Every reason maps to ERR_NGROK_28001. */
export type NotFoundReason =
  | 'not_found' // no live pod in the consulted clusters owns the IP
  | 'ambiguous' // two or more live claimants (IP reuse, or the IP in two clusters)
  | 'store_unavailable' // the store could not be reached or missed the lookup deadline
  | 'stale_cluster'; // the only possible owners are in clusters whose watcher stopped heartbeating

export type LookupResult =
  | { ok: true; identity: PodIdentity }
  | { ok: false; errorCode: typeof ERR_NOT_FOUND; reason: NotFoundReason; message: string };
