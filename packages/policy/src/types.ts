// The policy engine's public shapes. The engine does no I/O: callers hand it the
// connection facts and the pod identity they looked up, and get back a Decision.

/** Facts about one TCP connection, as `conn.*` exposes them. */
export interface ConnInfo {
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** `conn.ts.start`. */
  startedAt: Date;
}

/**
 * The pod identity as the policy sees it (`conn.k8s.pod.*`). With identity present,
 * `errorCode` is `''`; without it, the strings are `''`, the map is `{}` and
 * `errorCode` is `ERR_NGROK_28001` (or `ERR_NGROK_28000` next to a truncated map).
 */
export interface PodVars {
  id: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  /** The cluster the identity came from (Podgate extension, `conn.k8s.cluster`). */
  cluster: string;
  errorCode: string;
  errorMessage: string;
}

export interface TcpConnectInput {
  conn: ConnInfo;
  pod: PodVars;
}

/** Where an allowed connection goes. */
export interface ForwardTarget {
  /** The URL as configured (after `${}` interpolation). */
  url: string;
  scheme: 'http' | 'https' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** From the upstream / internal endpoint definition, when set. */
  proxyProtocolVersion?: 1 | 2;
}

export type DecidingAction =
  | 'deny'
  | 'close-connection'
  | 'restrict-ips'
  | 'forward-internal'
  /** AgentEndpoint with no terminating match: its `spec.upstream.url`. */
  | 'upstream'
  /** A run-time evaluation error: fails closed. */
  | 'error';

/** A decision carries its reason: which rule, which expression, why. */
export interface Decision {
  allowed: boolean;
  action: DecidingAction;
  target?: ForwardTarget;
  /** The rule that decided (0-based index, optional name); absent for the AgentEndpoint default. */
  rule?: { index: number; name?: string };
  /** The expression that failed to evaluate, when `action` is `error`. */
  expression?: { index: number; source: string };
  error?: { code: string; message: string };
  /** Metadata of every `log` action that ran, in order. */
  logs: Array<Record<string, unknown>>;
  /** `vars.*` as they stood when the decision was made. */
  vars: Record<string, unknown>;
}
