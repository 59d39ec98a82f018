// The decision service's one configuration schema: a field for each of its flags and
// environment variables (the CLI maps them; see `podgate decision --help`), parsed once at
// start. A bad value is fatal with a message naming the flag. Where the store is and which
// clusters to consult come from the shared store flags: the entry point opens the store and
// hands it, with the clusters, to startDecisionService.
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
} from '@podgate/runtime';
import { z } from 'zod';
import { DEFAULT_VALIDATE_MEMORY_BYTES, DEFAULT_VALIDATE_TIMEOUT_MS } from './validate/pool.js';

export const DEFAULT_LISTEN = '0.0.0.0:9466';
export const DEFAULT_MAX_BODY = '1MiB';
/** The largest --max-body-size accepted: a policy file is at most 4 MiB to the loader anyway. */
const MAX_BODY_CEILING = 16 * 1024 * 1024;
/** --validate-memory's range: below 16 MiB the policy engine itself does not load. */
const VALIDATE_MEMORY_FLOOR = 16 * 1024 * 1024;
const VALIDATE_MEMORY_CEILING = 4096 * 1024 * 1024;
const VALIDATE_TIMEOUT_CEILING_MS = 10 * 60_000;

const BYTES = /^(\d{1,9})(B|KiB|MiB)?$/;
const UNIT = { B: 1, KiB: 1024, MiB: 1024 * 1024 } as const;

/** `1048576`, `512KiB`, `1MiB` as bytes; null when it is none of these. */
export function parseByteSize(text: string): number | null {
  const match = BYTES.exec(text.trim());
  if (match === null) return null;
  return Number(match[1]) * UNIT[(match[2] ?? 'B') as keyof typeof UNIT];
}

const byteSizeSchema = (flag: string, min: number, max: number, range: string) =>
  z.string().transform((text, ctx) => {
    const bytes = parseByteSize(text);
    if (bytes === null || bytes < min || bytes > max) {
      ctx.addIssue({ code: 'custom', message: `${flag}: expected a size from ${range}` });
      return z.NEVER;
    }
    return bytes;
  });

export const decisionConfigSchema = z
  .object({
    configFiles: z
      .array(z.string().min(1), { error: '--config FILE is required (endpoints and policies)' })
      .min(1, '--config FILE is required (endpoints and policies)'),
    /** The API, forward-auth, /healthz, /readyz, /metrics and the OpenAPI document. */
    listen: hostPortSchema('--listen', { defaultHost: '0.0.0.0', example: DEFAULT_LISTEN }).prefault(
      DEFAULT_LISTEN,
    ),
    /**
     * Peers whose X-Forwarded-For / X-Real-IP name the client of /v1/forward-auth. From any
     * other peer those headers are ignored and the TCP peer is the client.
     */
    trustedProxies: cidrListSchema('--trusted-proxies').optional(),
    /** Bearer tokens, one a line; re-read on reload. */
    tokenFile: z.string().min(1).optional(),
    /** Serve /v1 without tokens (a warning says so at start). */
    insecureNoAuth: z.boolean().default(false),
    maxBodyBytes: byteSizeSchema(
      '--max-body-size',
      1,
      MAX_BODY_CEILING,
      '1 byte to 16MiB (e.g. 1048576, 512KiB, 1MiB)',
    ).prefault(DEFAULT_MAX_BODY),
    /** POST /v1/validate: one text's deadline in the validation worker. */
    validateTimeoutMs: durationSchema('--validate-timeout', 1)
      .refine((ms) => ms <= VALIDATE_TIMEOUT_CEILING_MS, '--validate-timeout: at most 10m')
      .prefault(`${DEFAULT_VALIDATE_TIMEOUT_MS}ms`),
    /** POST /v1/validate: the validation worker's heap. */
    validateMemoryBytes: byteSizeSchema(
      '--validate-memory',
      VALIDATE_MEMORY_FLOOR,
      VALIDATE_MEMORY_CEILING,
      '16MiB to 4096MiB (e.g. 64MiB)',
    ).prefault(`${DEFAULT_VALIDATE_MEMORY_BYTES}`),
    /** The deadline of one identity lookup (the store's; the CLI opens the store with it). */
    lookupTimeoutMs: lookupTimeoutSchema(),
    drainTimeoutMs: durationSchema('--drain-timeout', 0).prefault('10s'),
    logLevel: z.enum(LOG_LEVELS).prefault('info'),
  })
  // Checked even when other fields are bad (`when`), so one message lists every problem.
  .refine((config) => config.tokenFile !== undefined || config.insecureNoAuth === true, {
    message:
      '--token-file FILE is required (bearer tokens, one a line); --insecure-no-auth serves /v1 to anyone who can connect',
    when: () => true,
  })
  .refine((config) => !(config.tokenFile !== undefined && config.insecureNoAuth === true), {
    message: 'give --token-file or --insecure-no-auth, not both',
    when: () => true,
  });

type ParsedDecisionConfig = z.output<typeof decisionConfigSchema>;

/** The parsed configuration. */
export type DecisionConfig = Omit<ParsedDecisionConfig, 'listen' | 'trustedProxies'> & {
  listen: HostPort;
  trustedProxies?: CidrList;
};
export type DecisionConfigInput = z.input<typeof decisionConfigSchema>;

/** Parses and explains: `{ok: false, message}` lists every problem, one per line. */
export function parseDecisionConfig(input: DecisionConfigInput): ParsedConfig<ParsedDecisionConfig> {
  return parseConfig(decisionConfigSchema, input);
}
