// The policy engine's public shapes. The engine does no I/O: callers hand it the
// connection facts and the pod identity they looked up, and get back a Decision.
import type { DecisionErrorCode } from './decision-codes.js';

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
  error?: { code: DecisionErrorCode; message: string };
  /** Metadata of every `log` action that ran, in order. */
  logs: Array<Record<string, unknown>>;
  /** `vars.*` as they stood when the decision was made. */
  vars: Record<string, unknown>;
  /**
   * Present when the forward-internal that chose `target` says `on_error: continue`: the
   * caller that could not reach the target calls it with why, and evaluation goes on with the
   * later actions and rules, `actions.ngrok.forward_internal.{url,error}` set. Not part of the
   * decision's JSON form.
   */
  resume?: (failure: { code: string; message: string }) => Decision;
}

// ---------------------------------------------------------------------------
// Loading. Everything below was added by the policy engine; the shapes above are unchanged.

/** One problem found while loading, placed in words a user understands. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

/** Structural bounds on CEL expressions, checked at load. */
export interface ExpressionLimits {
  /** Characters in one expression (default 4096). */
  maxExpressionLength: number;
  /** Nesting depth of the expression tree, operator chains included (default 64). */
  maxAstDepth: number;
  /** Nodes in one expression tree (default 2000). */
  maxAstNodes: number;
  /** Elements of one list literal (default 256). */
  maxListElements: number;
}

export interface LoadOptions {
  /** Cluster DNS suffix for the `NAME.NAMESPACE.internal` fallback (default `cluster.local`). */
  clusterDomain?: string;
  limits?: Partial<ExpressionLimits>;
  /** Files longer than this many characters are refused unread (default 4 MiB). */
  maxFileCharacters?: number;
  /** Mappings and lists nested deeper than this are refused (default 64). */
  maxYamlDepth?: number;
}

export type EndpointBinding = 'kubernetes' | 'internal' | 'public';

export interface ParsedEndpointUrl {
  /** As configured (scheme and host lower-cased, no trailing slash). */
  href: string;
  /** `scheme://host:port` with the default port filled in; what `findEndpoint` compares. */
  key: string;
  scheme: 'http' | 'https' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** Whether the port was written in the URL. */
  explicitPort: boolean;
}

export interface CompiledEndpoint {
  kind: 'AgentEndpoint' | 'CloudEndpoint';
  name: string;
  namespace: string;
  url: ParsedEndpointUrl;
  binding: EndpointBinding;
  /** AgentEndpoint: `spec.upstream`. */
  upstream?: ForwardTarget;
  /** Where it was defined. */
  source: { file: string; line: number };
  /** Whether a traffic policy is attached (an AgentEndpoint without one forwards everything). */
  hasPolicy: boolean;
  /**
   * `metadata.annotations["podgate.io/dry-run"]` is `"true"`: evaluate and log the verdict,
   * but let every connection through, to `dryRunTarget` when the policy refuses it.
   */
  dryRun: boolean;
  /**
   * Where a dry-run endpoint sends what its policy refuses: `upstream` (AgentEndpoint), else
   * the first forward-internal target fixed at load. Always set when `dryRun` is.
   */
  dryRunTarget?: ForwardTarget;
  /** The compiled `on_tcp_connect` rules, for display. */
  rules: readonly RuleSummary[];
  evaluateTcpConnect(input: TcpConnectInput): Decision;
}

/** One compiled rule, as written (expression texts exactly as evaluated). */
export interface RuleSummary {
  index: number;
  name?: string;
  expressions: readonly string[];
  actions: readonly string[];
}

/** A traffic policy loaded on its own: an `NgrokTrafficPolicy`, or a bare `on_tcp_connect:` document. */
export interface CompiledPolicy {
  kind: 'NgrokTrafficPolicy' | 'TrafficPolicy';
  /** `metadata.name`, or for a bare document `FILE#N` (N = 1-based document index). */
  name: string;
  namespace: string;
  source: { file: string; line: number };
  rules: readonly RuleSummary[];
  /**
   * Evaluated like a CloudEndpoint without a URL: `endpoint.*` reads empty strings and port 0;
   * falling off the end of the rules closes the connection.
   */
  evaluateTcpConnect(input: TcpConnectInput): Decision;
}

export interface PolicyConfig {
  endpoints: CompiledEndpoint[];
  /** By normalised URL (scheme and host case-insensitive, default port filled in). */
  findEndpoint(url: string): CompiledEndpoint | undefined;
  policies: CompiledPolicy[];
}

export interface LoadedFileSummary {
  path: string;
  endpoints: number;
  policies: number;
}

export type LoadResult =
  | { ok: true; config: PolicyConfig; warnings: Diagnostic[]; files: LoadedFileSummary[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };
