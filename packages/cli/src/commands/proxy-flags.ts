// `podgate proxy`'s flags and environment, declared and documented once, and mapped to the
// proxy's configuration schema (services/proxy/src/config.ts) plus the shared store flags
// (store-flags.ts). Parsed once, at start; a bad value is fatal with its flag named.
import { type ProxyConfigInput, proxyConfigSchema } from '@podgate/proxy';
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

export const PROXY_FLAGS = {
  ...STORE_FLAGS,
  config: { type: 'string', multiple: true },
  bind: { type: 'string', multiple: true },
  'trusted-proxies': { type: 'string', multiple: true },
  listen: { type: 'string' },
  'max-connections': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'half-close-timeout': { type: 'string' },
  'proxy-header-timeout': { type: 'string' },
  'drain-timeout': { type: 'string' },
  ...LOOKUP_TIMEOUT_FLAG,
  'lookup-share': { type: 'string' },
  'log-level': { type: 'string' },
  'socket-layer': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const PROXY_HELP = `podgate proxy: the TCP front proxy. Each connection's client is looked up once in the
identity store, the endpoint's on_tcp_connect rules decide, and the connection is closed
(nothing reaches the upstream) or forwarded.

Usage: podgate proxy --config FILE [--config FILE ...] [options]

Endpoints:
  --config FILE               endpoint and policy YAML (repeatable; loaded together; re-read on
                              SIGHUP and when a file changes: new connections get the new
                              configuration, a bad file keeps the last good one)
  --bind URL=HOST:PORT        where to listen for the endpoint whose spec.url is URL (repeatable).
                              Without it a Kubernetes-bound endpoint listens on its URL's port on
                              0.0.0.0; an endpoint of another binding is served only when named here.
                              http:// and tcp:// endpoints alike are forwarded as TCP
                              (on_http_request is not evaluated).

${storeFlagsHelp('reader')}
  --lookup-timeout DUR        deadline of one identity lookup (default 200ms); past it the
                              identity is ERR_NGROK_28001 (store unavailable)
  --lookup-share DUR          connections from one IP within this window share one lookup
                              (default 2ms; 0 = every connection its own)

Clients:
  --trusted-proxies CIDR,...  peers that must send a PROXY protocol v1/v2 header naming the
                              client (load balancers); from any other peer, the TCP peer is the
                              client and nothing is read as a header (repeatable)
  --proxy-header-timeout DUR  how long a trusted peer has to send its header (default 3s)
  --max-connections N         open connections at most; past it new ones are closed at once
                              (default 10000)
  --connect-timeout DUR       upstream connect deadline (default 5s)
  --idle-timeout DUR          close a connection with no byte either way for this long
                              (default 15m)
  --half-close-timeout DUR    once either side has sent its FIN, close the connection after
                              this long with no byte either way (default 30s; 0: only
                              --idle-timeout applies)
  --socket-layer raw|net      raw (default): connections run on libuv TCP handles, below
                              net.Socket streams (Node's internal bindings; streams where this
                              Node lacks them); net: always net.Socket streams

Service:
  --listen HOST:PORT          /healthz, /readyz, /metrics (default 0.0.0.0:9465)
  --drain-timeout DUR         on SIGTERM/SIGINT: stop accepting, let open connections finish
                              for this long, then close them (default 30s)
  --log-level LEVEL           fatal, error, warn, info (default: one line per connection),
                              debug, trace, silent (env LOG_LEVEL)
  -h, --help                  this help

Durations: 500ms, 5s, 2m, 1h. Exits 0 after SIGTERM/SIGINT; 2 on bad usage (an unknown or
missing flag, a bad flag or environment value); 1 on a configuration file that does not load,
a store that cannot be reached or an address that cannot be bound; 3 when the stop was forced.`;

const proxyFlagsSchema = z.intersection(readerStoreFlagsSchema, proxyConfigSchema);

export type ProxyFlags = z.output<typeof proxyFlagsSchema>;

export function proxyFlagsInput(values: FlagValues, env: Readonly<Record<string, string | undefined>>) {
  const str = (name: string) => flagText(values, name);
  const list = (name: string) => flagList(values, name);
  const proxy: Record<keyof ProxyConfigInput, unknown> = {
    configFiles: list('config'),
    binds: list('bind'),
    trustedProxies: list('trusted-proxies')?.join(','),
    listen: str('listen'),
    maxConnections: str('max-connections'),
    connectTimeoutMs: str('connect-timeout'),
    idleTimeoutMs: str('idle-timeout'),
    halfCloseTimeoutMs: str('half-close-timeout'),
    proxyHeaderTimeoutMs: str('proxy-header-timeout'),
    drainTimeoutMs: str('drain-timeout'),
    lookupTimeoutMs: str('lookup-timeout'),
    lookupShareMs: str('lookup-share'),
    logLevel: str('log-level') ?? env.LOG_LEVEL,
    socketLayer: str('socket-layer'),
  };
  return presentOnly({
    ...storeFlagsInput(values, env),
    clusters: clusterFlagInput(values, env, 'default'),
    ...proxy,
  });
}

export function parseProxyFlags(
  values: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig<ProxyFlags> {
  return parseConfig(proxyFlagsSchema, proxyFlagsInput(values, env));
}
