// One error type for the identity package, with a closed set of codes.

export type IdentityErrorCode =
  | 'invalid_ip' // not an IPv4/IPv6 address in a form Podgate accepts
  | 'invalid_pod' // a pod without uid, name or namespace
  | 'invalid_pods_file' // a YAML pod listing that cannot be read
  | 'invalid_cluster_name' // a cluster name that cannot scope store keys
  | 'invalid_store_options' // a store URL or option that cannot work
  | 'store_unavailable' // the store cannot be reached (refused, timed out, authentication, TLS)
  | 'fenced'; // a write refused: a newer writer fenced the cluster (ADR 0003)

export class IdentityError extends Error {
  readonly code: IdentityErrorCode;

  constructor(code: IdentityErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityError';
    this.code = code;
  }
}
