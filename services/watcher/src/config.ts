// The watcher's one configuration schema: a field for each of its flags and environment
// variables (the CLI maps them; see `podgate watcher --help`), parsed once at start. A bad
// value is fatal with a message naming the flag. Where the store is and how to reach it
// are not here: the entry point opens the store (packages/cli/src/store-flags.ts) and
// hands it to startWatcherService.
import { assertClusterName } from '@podgate/identity';
import {
  durationSchema,
  type HostPort,
  hostPortSchema,
  LOG_LEVELS,
  type ParsedConfig,
  parseConfig,
} from '@podgate/runtime';
import { z } from 'zod';

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
    annotationPrefixes: z.array(z.string().min(1)).optional(),
    /** KUBECONFIG: a file, or a list (path-delimiter separated) whose first file is used. */
    kubeconfig: z.string().min(1).optional(),
    /** KUBERNETES_SERVICE_HOST/PORT: the in-cluster API server, used when no kubeconfig is given. */
    kubernetesServiceHost: z.string().min(1).optional(),
    kubernetesServicePort: z
      .string()
      .regex(/^\d{1,5}$/, 'KUBERNETES_SERVICE_PORT: expected a port')
      .default('443'),
    podsFile: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    labelSelector: z.string().min(1).optional(),
    listen: hostPortSchema('--listen', {
      defaultHost: '0.0.0.0',
      example: '0.0.0.0:9464, [::1]:9464',
    }).prefault('0.0.0.0:9464'),
    heartbeatIntervalMs: durationSchema('--heartbeat-interval', 100).prefault('5s'),
    heartbeatTtlMs: durationSchema('--heartbeat-ttl', 500).prefault('30s'),
    watchIdleTimeoutMs: durationSchema('--watch-idle-timeout', 100).prefault('2m'),
    apiGraceMs: durationSchema('--api-grace', 0).prefault('30s'),
    resyncIntervalMs: durationSchema('--resync-interval', 0).prefault('10m'),
    pollIntervalMs: durationSchema('--poll-interval', 50).prefault('2s'),
    drainTimeoutMs: durationSchema('--drain-timeout', 0).prefault('10s'),
    leaderElect: z.boolean().default(false),
    leaseName: z.string().min(1).default('podgate-watcher'),
    leaseNamespace: z.string().min(1).optional(),
    identity: z.string().min(1).optional(),
    logLevel: z.enum(LOG_LEVELS).prefault('info'),
  })
  .superRefine((config, ctx) => {
    if (config.heartbeatTtlMs <= config.heartbeatIntervalMs) {
      ctx.addIssue({ code: 'custom', message: '--heartbeat-ttl must be longer than --heartbeat-interval' });
    }
    if (config.podsFile && (config.kubeconfig || config.leaderElect)) {
      ctx.addIssue({
        code: 'custom',
        message: '--pods-file replaces the Kubernetes API: drop --kubeconfig/--leader-elect',
      });
    }
  });

type ParsedWatcherConfig = z.output<typeof watcherConfigSchema>;

/** The parsed configuration; `listen: null` runs without the admin server (`podgate dev`). */
export type WatcherConfig = Omit<ParsedWatcherConfig, 'listen'> & { listen: HostPort | null };
export type WatcherConfigInput = z.input<typeof watcherConfigSchema>;

/** Parses and explains: `{ok: false, message}` lists every problem, one per line. */
export function parseWatcherConfig(input: WatcherConfigInput): ParsedConfig<ParsedWatcherConfig> {
  return parseConfig(watcherConfigSchema, input);
}
