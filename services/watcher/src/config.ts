// The watcher's one configuration schema. Flags win over the environment; both are
// parsed once, at start, and a bad value is fatal with a message naming the flag.
import { assertClusterName } from '@podgate/identity';
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `5s`, `2m`, `1h`, or a bare number of milliseconds. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

const duration = (flag: string, min: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms < min) {
      ctx.addIssue({
        code: 'custom',
        message: `${flag}: expected a duration of at least ${min} ms (e.g. 5s)`,
      });
      return z.NEVER;
    }
    return ms;
  });

const listen = z.string().transform((text, ctx) => {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    ctx.addIssue({ code: 'custom', message: '--listen: expected HOST:PORT (e.g. 0.0.0.0:9464, [::1]:9464)' });
    return z.NEVER;
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
});

const seeds = z.string().transform((text, ctx) => {
  const nodes = text.split(',').map((part) => {
    const match = /^(.+):(\d{1,5})$/.exec(part.trim());
    return match ? { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) } : null;
  });
  if (nodes.some((n) => n === null) || nodes.length === 0) {
    ctx.addIssue({ code: 'custom', message: '--redis-cluster: expected host:port[,host:port...]' });
    return z.NEVER;
  }
  return nodes as Array<{ host: string; port: number }>;
});

export const watcherConfigSchema = z
  .object({
    cluster: z
      .string({ error: '--cluster (or PODGATE_CLUSTER) is required: the name this cluster has in the store' })
      .superRefine((name, ctx) => {
        try {
          assertClusterName(name);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `--cluster: ${(error as Error).message}` });
        }
      }),
    redisUrl: z
      .string()
      .regex(/^(rediss?|redis\+cluster):\/\//, '--redis: expected redis://, rediss:// or redis+cluster://')
      .optional(),
    redisCluster: seeds.optional(),
    keyPrefix: z.string().min(1).optional(),
    kubeconfig: z.string().min(1).optional(),
    podsFile: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    labelSelector: z.string().min(1).optional(),
    annotationPrefixes: z.array(z.string().min(1)).optional(),
    listen: listen.prefault('0.0.0.0:9464'),
    heartbeatIntervalMs: duration('--heartbeat-interval', 100).prefault('5s'),
    heartbeatTtlMs: duration('--heartbeat-ttl', 500).prefault('30s'),
    watchIdleTimeoutMs: duration('--watch-idle-timeout', 100).prefault('2m'),
    apiGraceMs: duration('--api-grace', 0).prefault('30s'),
    resyncIntervalMs: duration('--resync-interval', 0).prefault('10m'),
    pollIntervalMs: duration('--poll-interval', 50).prefault('2s'),
    leaderElect: z.boolean().default(false),
    leaseName: z.string().min(1).default('podgate-watcher'),
    leaseNamespace: z.string().min(1).optional(),
    identity: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
  })
  .superRefine((config, ctx) => {
    if (config.heartbeatTtlMs <= config.heartbeatIntervalMs) {
      ctx.addIssue({ code: 'custom', message: '--heartbeat-ttl must be longer than --heartbeat-interval' });
    }
    if (config.redisUrl && config.redisCluster) {
      ctx.addIssue({ code: 'custom', message: 'give --redis or --redis-cluster, not both' });
    }
    if (config.podsFile && (config.kubeconfig || config.leaderElect)) {
      ctx.addIssue({
        code: 'custom',
        message: '--pods-file replaces the Kubernetes API: drop --kubeconfig/--leader-elect',
      });
    }
  });

export type WatcherConfig = z.output<typeof watcherConfigSchema>;
export type WatcherConfigInput = z.input<typeof watcherConfigSchema>;

/** Parses and explains: `{ok: false, message}` lists every problem, one per line. */
export function parseWatcherConfig(
  input: WatcherConfigInput,
): { ok: true; config: WatcherConfig } | { ok: false; message: string } {
  const result = watcherConfigSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, message: result.error.issues.map((issue) => issue.message).join('\n') };
}
