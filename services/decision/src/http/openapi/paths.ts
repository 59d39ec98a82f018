// The OpenAPI document's paths: every route the app serves, with every status it answers.
const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
const json = (schema: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${schema}` } },
});

const DRY_RUN_HEADER = {
  'X-Podgate-Dry-Run-Verdict': {
    description: 'Only on a dry-run endpoint: the verdict its policy gave; the answer allows either way.',
    schema: { enum: ['allow', 'deny'] },
  },
};

const V1_ERRORS = { '401': ref('Unauthorized'), '500': ref('InternalError') };

const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** One forward-auth operation; the descriptions and shared pieces live in components. */
const forwardAuth = (extra: object[] = []) => ({
  summary: 'Forward-auth: may this client pass? (any method)',
  description:
    'For nginx auth_request, Traefik ForwardAuth, Caddy forward_auth and Envoy HTTP ext_authz: 200 allows (the identity in X-Podgate-* headers), 403 denies. The client is the TCP peer, or what a trusted proxy says in X-Forwarded-For / X-Real-IP. Every method answers alike.',
  security: [{ bearer: [] }, { accessToken: [] }],
  parameters: [
    ...extra,
    param('EndpointHeader'),
    param('EndpointQuery'),
    param('XForwardedFor'),
    param('XRealIp'),
  ],
  responses: {
    '200': ref('ForwardAuthAllowed'),
    '400': ref('InvalidRequest'),
    '403': ref('ForwardAuthDenied'),
    '422': ref('UnknownEndpoint'),
    ...V1_ERRORS,
  },
});
const ANY_METHOD = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'] as const;
const anyMethod = (operation: object, id: string) =>
  Object.fromEntries(ANY_METHOD.map((m) => [m, { operationId: `${id}_${m}`, ...operation }]));

/** The forward-auth parameters and answers, shared by every method of both paths. */
export const FORWARD_AUTH_COMPONENTS = {
  parameters: {
    EndpointHeader: {
      name: 'X-Podgate-Endpoint',
      in: 'header',
      schema: { type: 'string' },
      description:
        "The endpoint's URL (spec.url). When the endpoint query parameter is given too, both must name the same endpoint; neither may be given twice.",
    },
    EndpointQuery: {
      name: 'endpoint',
      in: 'query',
      schema: { type: 'string' },
      description: 'The endpoint URL, as a query parameter (the same rules).',
    },
    XForwardedFor: {
      name: 'X-Forwarded-For',
      in: 'header',
      schema: { type: 'string' },
      description:
        'Read only when the TCP peer is in --trusted-proxies: the client is the rightmost address that is not itself a trusted proxy. From any other peer it is ignored and the peer is the client.',
    },
    XRealIp: {
      name: 'X-Real-IP',
      in: 'header',
      schema: { type: 'string' },
      description: 'Read only from a trusted proxy, when X-Forwarded-For names no untrusted address.',
    },
  },
  responses: {
    ForwardAuthAllowed: {
      description:
        'Allowed, or a dry-run endpoint. No body; the identity in headers ("" when unknown), for the proxy to pass upstream. The body of the request is never read.',
      headers: {
        'X-Podgate-Pod-Name': { schema: { type: 'string' } },
        'X-Podgate-Pod-Namespace': { schema: { type: 'string' } },
        'X-Podgate-Pod-Id': { schema: { type: 'string' } },
        'X-Podgate-Cluster': { schema: { type: 'string' } },
        'X-Podgate-Dry-Run-Verdict': {
          description:
            'The verdict the policy of a dry-run endpoint gave (the answer allows either way); "" on any other endpoint, so a proxy that copies it replaces a client copy.',
          schema: { enum: ['allow', 'deny', ''] },
        },
      },
    },
    ForwardAuthDenied: {
      description: "Denied by the endpoint's policy (access_denied); the body names no rule or identity.",
      content: json('Error'),
    },
  },
};

export const PATHS = {
  '/v1/decisions': {
    post: {
      operationId: 'decide',
      summary: 'Decide for an endpoint and a client IP',
      description:
        "One identity lookup, then the endpoint's on_tcp_connect rules. The answer is the decision `podgate eval` prints. The caller names the client; forwarding headers are not read.",
      security: [{ bearer: [] }],
      requestBody: { required: true, content: json('DecisionRequest') },
      responses: {
        '200': { description: 'The decision.', headers: DRY_RUN_HEADER, content: json('Decision') },
        '400': ref('InvalidRequest'),
        '405': ref('MethodNotAllowed'),
        '413': ref('PayloadTooLarge'),
        '422': ref('UnknownEndpoint'),
        ...V1_ERRORS,
      },
    },
  },
  '/v1/identities/{ip}': {
    get: {
      operationId: 'identity',
      summary: 'The identity the policies would see for an IP',
      description:
        'Looked up in the consulted clusters as a decision does. 200 whether found or not: without identity, `lookup.reason` says why (not_found, ambiguous, stale_cluster, store_unavailable) and error_code is ERR_NGROK_28001.',
      security: [{ bearer: [] }],
      parameters: [
        {
          name: 'ip',
          in: 'path',
          required: true,
          schema: { type: 'string' },
          description: 'IPv4, IPv6 or IPv4-mapped IPv6.',
        },
      ],
      responses: {
        '200': { description: 'What a policy would read.', content: json('IdentityAnswer') },
        '400': ref('InvalidRequest'),
        '405': ref('MethodNotAllowed'),
        ...V1_ERRORS,
      },
    },
  },
  '/v1/validate': {
    post: {
      operationId: 'validate',
      summary: 'Validate endpoints and policies (YAML)',
      description:
        'The body is loaded as `podgate validate` loads a file, on its own, in a worker thread beside the one that answers decisions (one text at a time, with a deadline and a heap limit of its own). Endpoints annotated podgate.io/dry-run: "true" are marked dry_run.',
      security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/yaml': { schema: { type: 'string' } } } },
      responses: {
        '200': { description: 'It loads.', content: json('Valid') },
        '400': ref('InvalidRequest'),
        '405': ref('MethodNotAllowed'),
        '413': ref('PayloadTooLarge'),
        '422': {
          description:
            'It does not load (invalid_policy, with the diagnostics), or loading it needed more than one validation is given (validation_limit: --validate-timeout, --validate-memory).',
          content: {
            'application/json': {
              schema: {
                oneOf: [{ $ref: '#/components/schemas/Invalid' }, { $ref: '#/components/schemas/Error' }],
              },
            },
          },
        },
        '503': {
          description:
            'busy: validations run one at a time in a worker thread and a few wait; more are refused until one finishes (or the service is stopping).',
          headers: {
            'Retry-After': {
              description: 'Seconds to wait before trying again.',
              schema: { type: 'integer' },
            },
          },
          content: json('Error'),
        },
        ...V1_ERRORS,
      },
    },
  },
  '/v1/forward-auth': anyMethod(forwardAuth(), 'forwardAuth'),
  '/v1/forward-auth/{path}': anyMethod(
    forwardAuth([
      {
        name: 'path',
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: 'Anything, slashes included (Envoy appends the original path); ignored.',
      },
    ]),
    'forwardAuthPath',
  ),
  '/healthz': {
    get: {
      operationId: 'healthz',
      summary: 'Liveness',
      security: [],
      responses: {
        '200': {
          description: 'The process runs.',
          content: {
            'application/json': {
              schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
            },
          },
        },
      },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: configuration loaded and store reachable',
      description: '503 while the store does not answer, and once the service is stopping.',
      security: [],
      responses: {
        '200': { description: 'Ready.', content: json('Readiness') },
        '503': { description: 'Not ready.', content: json('Readiness') },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description:
        'podgate_decision_decisions_total{endpoint,route,outcome}, podgate_decision_dry_run_refusals_total{endpoint,verdict}, podgate_decision_lookup_duration_seconds{result}, podgate_decision_request_duration_seconds{route}, podgate_decision_errors_total{code}, podgate_decision_store_reachable, podgate_decision_log_lines_dropped_total, podgate_config_reloads_total{result}, podgate_config_last_reload_successful, and process metrics (podgate_decision_process_*, podgate_decision_nodejs_*).',
      security: [],
      responses: {
        '200': {
          description: 'Prometheus text format.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapiJson',
      summary: 'This document, as JSON',
      security: [],
      responses: {
        '200': {
          description: 'OpenAPI 3.1.',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  },
  '/openapi.yaml': {
    get: {
      operationId: 'openapiYaml',
      summary: 'This document, as YAML',
      security: [],
      responses: {
        '200': {
          description: 'OpenAPI 3.1.',
          content: { 'application/yaml': { schema: { type: 'string' } } },
        },
      },
    },
  },
};
