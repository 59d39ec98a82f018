// Podgate's error vocabulary: every code the project emits, in one table, in one casing
// (snake_case). Each package's own code type is derived from the table by its area, so a
// code cannot be used before it is listed here with its meaning. docs/errors.md lists the
// same table (a test keeps the two equal), and the HTTP APIs answer
// `{"error": {"code", "message"}}` with the status given here.
//
// ngrok's own pod-identity codes (`ERR_NGROK_28000`, `ERR_NGROK_28001`) are not in this
// table: they are values a policy reads in `conn.k8s.pod.metadata.error_code`, kept
// verbatim as ngrok spells them.

export type ErrorArea =
  | 'config' // flags, environment and files read at start or on reload
  | 'kubernetes' // the watcher's Kubernetes API source
  | 'identity' // pods, records and IP addresses
  | 'store' // opening and writing the identity store
  | 'lookup' // why a lookup found no identity (every one is ERR_NGROK_28001 to the policy; store_unavailable too)
  | 'policy' // a decision that failed closed (`Decision.error.code`)
  | 'http'; // answers of Podgate's HTTP APIs

export interface ErrorCodeInfo {
  area: ErrorArea;
  /** What happened, in one sentence a user can act on. */
  meaning: string;
  /** The status an HTTP API answers this code with; absent where no API answers it. */
  status?: number;
}

export const ERROR_CODES = {
  invalid_config: {
    area: 'config',
    meaning: 'A flag, environment variable or configuration file was refused; the message names it.',
  },
  listen_failed: {
    area: 'config',
    meaning: 'A service cannot listen on the address it was given (in use, not local, or not permitted).',
  },
  invalid_kubeconfig: {
    area: 'config',
    meaning:
      'A kubeconfig or in-cluster service account that is there but cannot be used; the message says why.',
  },
  no_pod_source: {
    area: 'config',
    meaning:
      'The watcher was told of no pod source: no --pods-file, no in-cluster service account, no KUBECONFIG, no ~/.kube/config (exit 2).',
  },

  kube_api_unauthorized: {
    area: 'kubernetes',
    meaning: 'The Kubernetes API server answered 401 or 403.',
  },
  kube_api_gone: {
    area: 'kubernetes',
    meaning:
      "The Kubernetes API server answered 410: the resourceVersion is older than the server's history.",
  },
  kube_api_http: {
    area: 'kubernetes',
    meaning: 'The Kubernetes API server answered another non-success status.',
  },
  kube_api_network: {
    area: 'kubernetes',
    meaning:
      'The Kubernetes API server could not be reached, or the connection was refused, reset or dropped.',
  },
  kube_api_protocol: {
    area: 'kubernetes',
    meaning:
      'The Kubernetes API server sent a body that is not what the API promises (or too large to hold).',
  },

  invalid_ip: {
    area: 'identity',
    meaning: 'Not an IPv4 or IPv6 address in a form Podgate accepts (no zone, no prefix length).',
    status: 400,
  },
  invalid_pod: {
    area: 'identity',
    meaning: 'A pod without uid, name or namespace (or with a UID the store reserves).',
  },
  invalid_pods_file: {
    area: 'identity',
    meaning: 'A pods file (YAML as `kubectl get pods -A -o yaml` prints it) that cannot be read or parsed.',
  },
  invalid_cluster_name: {
    area: 'identity',
    meaning: 'A cluster name that cannot scope store keys (1-63 of A-Z a-z 0-9 . _ -).',
    status: 400,
  },

  invalid_store_options: {
    area: 'store',
    meaning: 'A store URL or option that cannot work (the message says which); nothing was contacted.',
  },
  store_unavailable: {
    area: 'store',
    meaning:
      'The store cannot be reached: opening it names the address and why (refused, timed out, authentication, TLS); as a lookup reason, the store was unreachable or missed the lookup deadline.',
    status: 503,
  },
  fenced: {
    area: 'store',
    meaning: 'A write was refused: a writer of a newer epoch fenced the cluster (ADR 0003).',
  },

  not_found: {
    area: 'lookup',
    meaning: 'No live pod in the consulted clusters owns the IP.',
  },
  ambiguous: {
    area: 'lookup',
    meaning: 'Two or more live claimants own the IP (IP reuse, or the IP in two consulted clusters).',
  },
  stale_cluster: {
    area: 'lookup',
    meaning:
      'The only possible owners are in clusters whose watcher stopped heartbeating, or a consulted cluster that no watcher has ever written (a misspelt cluster name): the message says which.',
  },

  policy_eval_error: {
    area: 'policy',
    meaning: 'A CEL expression, interpolation or regex failed at run time; the connection is refused.',
  },
  forward_internal_error: {
    area: 'policy',
    meaning:
      'forward-internal could not resolve its interpolated URL (on_error: halt); the connection is refused.',
  },
  policy_no_match: {
    area: 'policy',
    meaning:
      'No rule ended evaluation on an endpoint that must end in a terminating action (CloudEndpoint, bare policy).',
  },

  invalid_request: {
    area: 'http',
    meaning: 'The request is malformed: a missing or invalid field, header or body.',
    status: 400,
  },
  unauthorized: {
    area: 'http',
    meaning: 'The request carries no valid credentials for an API that requires them.',
    status: 401,
  },
  access_denied: {
    area: 'http',
    meaning:
      "The endpoint's policy refused the request (the decision service's forward-auth answer to deny).",
    status: 403,
  },
  route_not_found: {
    area: 'http',
    meaning: 'No such path on this API.',
    status: 404,
  },
  method_not_allowed: {
    area: 'http',
    meaning: 'The path exists but not with this method; the `Allow` header lists the methods it takes.',
    status: 405,
  },
  payload_too_large: {
    area: 'http',
    meaning: "The request body is larger than the service's limit (`--max-body-size`, 1 MiB by default).",
    status: 413,
  },
  unknown_endpoint: {
    area: 'http',
    meaning: 'No endpoint in the loaded configuration has that URL.',
    status: 422,
  },
  invalid_policy: {
    area: 'http',
    meaning:
      'The configuration sent to be validated does not load; the answer lists the diagnostics (file, line, column, message).',
    status: 422,
  },
  validation_limit: {
    area: 'http',
    meaning:
      'The configuration sent to be validated needed more time or memory than one validation is given (`--validate-timeout`, `--validate-memory`); split it, or run `podgate validate` on it.',
    status: 422,
  },
  busy: {
    area: 'http',
    meaning:
      'The service is doing as much of this kind of work as it takes at once (validations run one at a time, a few wait) or is stopping; retry after the `Retry-After` seconds.',
    status: 503,
  },
  internal_error: {
    area: 'http',
    meaning: 'An unexpected error; the message is safe to show, details are in the log.',
    status: 500,
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of one area, e.g. `ErrorCodeIn<'identity' | 'store'>`. */
export type ErrorCodeIn<A extends ErrorArea> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['area'] extends A ? C : never;
}[ErrorCode];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Every code of `areas`, in table order. */
export function codesIn<A extends ErrorArea>(...areas: A[]): ErrorCodeIn<A>[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) =>
    (areas as ErrorArea[]).includes(ERROR_CODES[code].area),
  ) as ErrorCodeIn<A>[];
}
