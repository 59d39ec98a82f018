// `podgate watcher`'s flags and environment, declared and documented once, and mapped
// to the watcher's configuration schema (services/watcher/src/config.ts) plus the store
// flags (store-flags.ts). Parsed once, at start; a bad value is fatal with its flag named.
import { type ParsedConfig, parseConfig, presentOnly } from '@podgate/runtime';
import { type WatcherConfigInput, watcherConfigSchema } from '@podgate/watcher';
import { z } from 'zod';
import { type FlagValues, flagText } from '../args.js';
import {
  ANNOTATION_PREFIX_FLAG,
  ANNOTATION_PREFIX_HELP,
  clusterFlagInput,
  STORE_FLAGS,
  storeFlagsHelp,
  storeFlagsInput,
  storeFlagsSchema,
} from '../store-flags.js';

export const WATCHER_FLAGS = {
  ...STORE_FLAGS,
  ...ANNOTATION_PREFIX_FLAG,
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'label-selector': { type: 'string' },
  'pods-file': { type: 'string' },
  'poll-interval': { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  'heartbeat-ttl': { type: 'string' },
  'api-grace': { type: 'string' },
  'resync-interval': { type: 'string' },
  'watch-idle-timeout': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'lease-name': { type: 'string' },
  'lease-namespace': { type: 'string' },
  identity: { type: 'string' },
  listen: { type: 'string' },
  'drain-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const WATCHER_HELP = `podgate watcher: list and watch pods, write their identities to the store.

Usage: podgate watcher --cluster NAME [options]

${storeFlagsHelp('writer')}

Pods (default: the Kubernetes API, all namespaces):
  --kubeconfig FILE           kubeconfig (env KUBECONFIG, its first file if a list; else
                              the in-cluster service account, else ~/.kube/config)
  --namespace NS              only pods in this namespace
  --label-selector SEL        only pods matching this label selector
  --pods-file FILE            read pods from YAML as 'kubectl get pods -A -o yaml' prints it,
                              re-read when it changes (instead of the API)
  --poll-interval DUR         pods file change polling fallback (default 2s)
${ANNOTATION_PREFIX_HELP}

Freshness of this cluster in the store:
  --heartbeat-interval DUR    how often the cluster heartbeat is written (default 5s)
  --heartbeat-ttl DUR         how long readers trust it (default 30s)
  --api-grace DUR             how long the API may be unreachable before the heartbeat
                              stops and readers see the cluster as stale (default 30s)
  --watch-idle-timeout DUR    restart a watch that sent nothing for this long (default 2m)
  --resync-interval DUR       rewrite every claim from memory this often, repairing a store
                              that lost data silently (default 10m; 0 = never)

Replicas:
  --leader-elect              run as one of several replicas: only the holder of a
                              coordination.k8s.io Lease writes (see docs/adr/0003)
  --lease-name NAME           default podgate-watcher
  --lease-namespace NS        default: POD_NAMESPACE, else default
  --identity ID               this replica's name in the Lease (default POD_NAME, else
                              HOSTNAME, else the host name)

Service:
  --listen HOST:PORT          /healthz, /readyz, /metrics (default 0.0.0.0:9464)
  --drain-timeout DUR         on SIGTERM/SIGINT, how long stopping may take (flushing writes,
                              releasing the Lease) before it is forced (default 10s)
  --log-level LEVEL           fatal, error, warn, info (default), debug, trace, silent
                              (env LOG_LEVEL)
  -h, --help                  this help

Durations: 500ms, 5s, 2m, 1h. Exits 0 after SIGTERM/SIGINT; 2 on bad usage (an unknown or
missing flag, a bad flag or environment value, no pod source at all); 1 on a pods file or
kubeconfig that cannot be used or a store that cannot be reached; 3 when the stop was forced
(the drain deadline passed, or a second signal came).`;

/** The store flags and the watcher's own settings, parsed together (one message lists all problems). */
const watcherFlagsSchema = z.intersection(storeFlagsSchema, watcherConfigSchema);

export type WatcherFlags = z.output<typeof watcherFlagsSchema>;

/** Flags and environment to the schemas' input; flags win. */
export function watcherFlagsInput(values: FlagValues, env: Readonly<Record<string, string | undefined>>) {
  const str = (name: string) => flagText(values, name);
  const clusters = clusterFlagInput(values, env);
  const watcher: Record<keyof WatcherConfigInput, unknown> = {
    cluster: clusters?.length === 1 ? clusters[0] : clusters,
    annotationPrefixes: values['annotation-prefix'],
    kubeconfig: str('kubeconfig') ?? env.KUBECONFIG,
    kubernetesServiceHost: env.KUBERNETES_SERVICE_HOST,
    kubernetesServicePort: env.KUBERNETES_SERVICE_PORT,
    podsFile: str('pods-file'),
    namespace: str('namespace'),
    labelSelector: str('label-selector'),
    listen: str('listen'),
    heartbeatIntervalMs: str('heartbeat-interval'),
    heartbeatTtlMs: str('heartbeat-ttl'),
    apiGraceMs: str('api-grace'),
    resyncIntervalMs: str('resync-interval'),
    watchIdleTimeoutMs: str('watch-idle-timeout'),
    pollIntervalMs: str('poll-interval'),
    drainTimeoutMs: str('drain-timeout'),
    leaderElect: values['leader-elect'] === true,
    leaseName: str('lease-name'),
    leaseNamespace: str('lease-namespace') ?? env.POD_NAMESPACE,
    identity: str('identity') ?? env.POD_NAME ?? env.HOSTNAME,
    logLevel: str('log-level') ?? env.LOG_LEVEL,
  };
  return presentOnly({ ...storeFlagsInput(values, env), ...watcher });
}

/** Parses and explains: `{ok: false, message}` lists every problem, one per line. */
export function parseWatcherFlags(
  values: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig<WatcherFlags> {
  const input = watcherFlagsInput(values, env);
  if (Array.isArray(input.cluster)) {
    return { ok: false, message: '--cluster: a watcher writes one cluster; give one name' };
  }
  return parseConfig(watcherFlagsSchema, input);
}
