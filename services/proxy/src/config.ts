// The proxy's one configuration schema: a field for each of its flags and environment
// variables (the CLI maps them; see `podgate proxy --help`), parsed once at start. A bad value
// is fatal with a message naming the flag. Where the store is comes from the shared store
// flags: the entry point opens it and hands it to startProxyService.
import {
  type CidrList,
  cidrListSchema,
  durationSchema,
  type HostPort,
  hostPortSchema,
  LOG_LEVELS,
  lookupTimeoutSchema,
  type ParsedConfig,
  parseConfig,
  parseHostPort,
} from '@podgate/runtime';
import { z } from 'zod';
import type { BindOverride } from './bindings.js';

/** `ENDPOINT_URL=HOST:PORT`: the URL as the configuration writes it, where to listen for it. */
const bindSchema = z.string().transform((text, ctx): BindOverride => {
  const at = text.lastIndexOf('=');
  const address = at > 0 ? parseHostPort(text.slice(at + 1), { defaultHost: '0.0.0.0' }) : null;
  if (at <= 0 || address === null) {
    ctx.addIssue({
      code: 'custom',
      message: `--bind: expected ENDPOINT_URL=HOST:PORT (e.g. tcp://ledger.payments:5432=0.0.0.0:5432), got ${JSON.stringify(text.slice(0, 200))}`,
    });
    return z.NEVER;
  }
  return { url: text.slice(0, at), address };
});

export const proxyConfigSchema = z.object({
  configFiles: z
    .array(z.string().min(1), { error: '--config FILE is required (endpoints and policies)' })
    .min(1, '--config FILE is required (endpoints and policies)'),
  binds: z.array(bindSchema).default([]),
  /** Peers whose PROXY protocol header names the client; they must send one. */
  trustedProxies: cidrListSchema('--trusted-proxies').optional(),
  /** /healthz, /readyz, /metrics. */
  listen: hostPortSchema('--listen', { defaultHost: '0.0.0.0', example: '0.0.0.0:9465' }).prefault(
    '0.0.0.0:9465',
  ),
  maxConnections: z.coerce
    .number({ error: '--max-connections: expected a whole number' })
    .int('--max-connections: expected a whole number')
    .min(1, '--max-connections: at least 1')
    .default(10_000),
  connectTimeoutMs: durationSchema('--connect-timeout', 1).prefault('5s'),
  idleTimeoutMs: durationSchema('--idle-timeout', 100).prefault('15m'),
  /** Quiet allowed once either side has sent its FIN (0: the idle timeout alone). */
  halfCloseTimeoutMs: durationSchema('--half-close-timeout', 0).prefault('30s'),
  proxyHeaderTimeoutMs: durationSchema('--proxy-header-timeout', 10).prefault('3s'),
  drainTimeoutMs: durationSchema('--drain-timeout', 0).prefault('30s'),
  lookupTimeoutMs: lookupTimeoutSchema(),
  /** Connections from one IP this close together share one lookup (0: never). */
  lookupShareMs: durationSchema('--lookup-share', 0).prefault('2ms'),
  logLevel: z.enum(LOG_LEVELS).prefault('info'),
  /**
   * `raw`: connections from peers that are not trusted proxies run on libuv TCP handles
   * (docs/adr/0007-raw-tcp-handles.md), `net` where this Node lacks them; `net`: always streams.
   */
  socketLayer: z.enum(['raw', 'net'], { error: '--socket-layer: expected raw or net' }).default('raw'),
});

type ParsedProxyConfig = z.output<typeof proxyConfigSchema>;

/** The parsed configuration; `listen: null` runs without the admin server (`podgate dev`). */
export type ProxyConfig = Omit<ParsedProxyConfig, 'listen' | 'trustedProxies'> & {
  listen: HostPort | null;
  trustedProxies?: CidrList;
};
export type ProxyConfigInput = z.input<typeof proxyConfigSchema>;

export function parseProxyConfig(input: ProxyConfigInput): ParsedConfig<ParsedProxyConfig> {
  return parseConfig(proxyConfigSchema, input);
}
