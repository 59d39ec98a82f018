// `podgate decision`'s flags and environment, declared and documented once, and mapped to the
// decision service's configuration schema (services/decision/src/config.ts) plus the shared
// store flags (store-flags.ts). Parsed once, at start; a bad value is fatal with its flag named.
import { type DecisionConfigInput, decisionConfigSchema } from '@podgate/decision';
import { type ParsedConfig, parseConfig, presentOnly } from '@podgate/runtime';
import { z } from 'zod';
import { type FlagValues, flagList, flagText } from '../args.js';
import {
  clusterFlagInput,
  LOOKUP_TIMEOUT_FLAG,
  readerStoreFlagsSchema,
  STORE_FLAGS,
  storeFlagsHelp,
  storeFlagsInput,
} from '../store-flags.js';

export const DECISION_FLAGS = {
  ...STORE_FLAGS,
  config: { type: 'string', multiple: true },
  listen: { type: 'string' },
  'trusted-proxies': { type: 'string', multiple: true },
  'token-file': { type: 'string' },
  'insecure-no-auth': { type: 'boolean' },
  'max-body-size': { type: 'string' },
  'validate-timeout': { type: 'string' },
  'validate-memory': { type: 'string' },
  ...LOOKUP_TIMEOUT_FLAG,
  'drain-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DECISION_HELP = `podgate decision: the HTTP decision service. Other proxies (nginx auth_request, Traefik
ForwardAuth, Caddy forward_auth, Envoy ext_authz) and programs ask it whether a client may
reach an endpoint; each request is one identity lookup in the shared store and the endpoint's
on_tcp_connect rules. Stateless: run as many replicas as you like against one store.

Usage: podgate decision --config FILE [--config FILE ...] --token-file FILE [options]

Routes (docs/decision.md; the OpenAPI document at /openapi.yaml):
  POST /v1/decisions          {"endpoint", "client_ip", ...} -> the decision podgate eval prints
  GET  /v1/identities/IP      the identity the policies would see for IP
  POST /v1/validate           YAML body -> 200, or 422 with the diagnostics
  *    /v1/forward-auth[/...] 200 + X-Podgate-Pod-* headers to allow, 403 to deny
  /healthz, /readyz, /metrics, /openapi.json, /openapi.yaml (no token)

Endpoints:
  --config FILE               endpoint and policy YAML (repeatable; loaded together; re-read on
                              SIGHUP and when a file changes; a bad file keeps the last good one)

${storeFlagsHelp('reader')}
  --lookup-timeout DUR        deadline of one identity lookup (default 200ms); past it the
                              identity is ERR_NGROK_28001 (store unavailable) and the
                              endpoint's policy decides (fail-closed or fail-open)

Clients and callers:
  --token-file FILE           bearer tokens, one a line (# comments); required unless
                              --insecure-no-auth; re-read with the configuration; an empty
                              file refuses every /v1 request
  --insecure-no-auth          serve /v1 without tokens (a warning says so at start)
  --trusted-proxies CIDR,...  peers whose X-Forwarded-For / X-Real-IP name the forward-auth
                              client: the rightmost X-Forwarded-For address that is not itself
                              a trusted proxy, else X-Real-IP; from any other peer those headers
                              are ignored and the TCP peer is the client (repeatable)
  --max-body-size SIZE        largest request body (default 1MiB; e.g. 65536, 512KiB); past
                              it: 413
  --validate-timeout DUR      POST /v1/validate: one text's deadline (default 10s); past it:
                              422 validation_limit
  --validate-memory SIZE      POST /v1/validate: the heap of the worker thread that loads the
                              texts, one at a time (default 32MiB; 16MiB-4096MiB); past it:
                              422 validation_limit, and the service answers on

Service:
  --listen HOST:PORT          the API and probes (default 0.0.0.0:9466)
  --drain-timeout DUR         on SIGTERM/SIGINT: stop accepting, let requests in flight finish
                              for this long, then close (default 10s)
  --log-level LEVEL           fatal, error, warn, info (default: one line per decision),
                              debug, trace, silent (env LOG_LEVEL)
  -h, --help                  this help

Durations: 500ms, 5s, 2m, 1h. Exits 0 after SIGTERM/SIGINT; 2 on bad usage (an unknown or
missing flag, a bad flag or environment value); 1 on a configuration file that does not load,
a store that cannot be reached or an address that cannot be bound; 3 when the stop was forced.`;

const decisionFlagsSchema = z.intersection(readerStoreFlagsSchema, decisionConfigSchema);

export type DecisionFlags = z.output<typeof decisionFlagsSchema>;

export function decisionFlagsInput(values: FlagValues, env: Readonly<Record<string, string | undefined>>) {
  const str = (name: string) => flagText(values, name);
  const list = (name: string) => flagList(values, name);
  const decision: Record<keyof DecisionConfigInput, unknown> = {
    configFiles: list('config'),
    listen: str('listen'),
    trustedProxies: list('trusted-proxies')?.join(','),
    tokenFile: str('token-file'),
    insecureNoAuth: values['insecure-no-auth'] === true,
    maxBodyBytes: str('max-body-size'),
    validateTimeoutMs: str('validate-timeout'),
    validateMemoryBytes: str('validate-memory'),
    lookupTimeoutMs: str('lookup-timeout'),
    drainTimeoutMs: str('drain-timeout'),
    logLevel: str('log-level') ?? env.LOG_LEVEL,
  };
  return presentOnly({
    ...storeFlagsInput(values, env),
    clusters: clusterFlagInput(values, env, 'default'),
    ...decision,
  });
}

export function parseDecisionFlags(
  values: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig<DecisionFlags> {
  return parseConfig(decisionFlagsSchema, decisionFlagsInput(values, env));
}
