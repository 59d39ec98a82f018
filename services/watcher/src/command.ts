// `podgate watcher`: the entry point. Reads flags and environment (the only place that
// does), builds the collaborators, serves health/metrics and runs until SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { delimiter } from 'node:path';
import { parseArgs } from 'node:util';
import type { IdentityStore } from '@podgate/identity';
import type { DestinationStream, Logger } from 'pino';
import { systemClock } from './clock.js';
import { parseWatcherConfig, type WatcherConfig, type WatcherConfigInput } from './config.js';
import { createPodSource, createStore } from './deps.js';
import { errorMessage } from './errors.js';
import { createHttpApp } from './http/app.js';
import { type HttpServerHandle, listenHttp } from './http/server.js';
import { createKubeLeaseApi } from './leader/lease-api.js';
import { type LeaderTerm, runWithLeaderElection } from './leader/supervisor.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { type KubeAccess, loadKubeAccess } from './sources/kube-access.js';
import { type RunningWatcher, startWatcher } from './watcher.js';

export const WATCHER_HELP = `podgate watcher: list and watch pods, write their identities to the store.

Usage: podgate watcher --cluster NAME [options]

Store (default: the embedded in-memory store, visible to this process only):
  --redis URL                 redis://, rediss:// (TLS), with user:password@ (env REDIS_URL)
  --redis-cluster H:P,H:P     Redis Cluster seed nodes
  --key-prefix PREFIX         prefix of every key (default podgate:)

Pods (default: the Kubernetes API, all namespaces):
  --kubeconfig FILE           kubeconfig (env KUBECONFIG, its first file if a list; else
                              the in-cluster service account, else ~/.kube/config)
  --namespace NS              only pods in this namespace
  --label-selector SEL        only pods matching this label selector
  --pods-file FILE            read pods from YAML as 'kubectl get pods -A -o yaml' prints it,
                              re-read when it changes (instead of the API)
  --poll-interval DUR         pods file change polling fallback (default 2s)
  --annotation-prefix P       annotation prefix surfaced to policies (repeatable;
                              default k8s.ngrok.com/)

Identity of this cluster in the store:
  --cluster NAME              required (env PODGATE_CLUSTER)
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
  --identity ID               this replica's name in the Lease (default POD_NAME or hostname)

Service:
  --listen HOST:PORT          /healthz, /readyz, /metrics (default 0.0.0.0:9464)
  --log-level LEVEL           fatal, error, warn, info (default), debug, trace, silent
  -h, --help                  this help

Durations: 500ms, 5s, 2m, 1h. Exits 0 after SIGTERM/SIGINT, 1 on a bad configuration,
2 on bad flags.`;

const FLAGS = {
  cluster: { type: 'string' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'key-prefix': { type: 'string' },
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'label-selector': { type: 'string' },
  'pods-file': { type: 'string' },
  'poll-interval': { type: 'string' },
  'annotation-prefix': { type: 'string', multiple: true },
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
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface RunWatcherOptions {
  /** Resolves when the command should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
  /** Log destination; default stdout. */
  logDestination?: DestinationStream;
  /** Error output; default stderr. */
  err?: (text: string) => void;
  /** Called once serving, with the bound health port (tests listen on port 0). */
  onListening?: (port: number) => void;
}

/** Flags and environment to the schema's input; flags win. */
export function configInput(
  values: Record<string, string | boolean | string[] | undefined>,
  env: NodeJS.ProcessEnv,
): WatcherConfigInput {
  const str = (name: string) => values[name] as string | undefined;
  const input: Record<string, unknown> = {
    cluster: str('cluster') ?? env.PODGATE_CLUSTER,
    redisUrl: str('redis') ?? env.REDIS_URL,
    redisCluster: str('redis-cluster'),
    keyPrefix: str('key-prefix'),
    kubeconfig: str('kubeconfig') ?? env.KUBECONFIG,
    podsFile: str('pods-file'),
    namespace: str('namespace'),
    labelSelector: str('label-selector'),
    annotationPrefixes: values['annotation-prefix'],
    listen: str('listen'),
    heartbeatIntervalMs: str('heartbeat-interval'),
    heartbeatTtlMs: str('heartbeat-ttl'),
    apiGraceMs: str('api-grace'),
    resyncIntervalMs: str('resync-interval'),
    watchIdleTimeoutMs: str('watch-idle-timeout'),
    pollIntervalMs: str('poll-interval'),
    leaderElect: values['leader-elect'] === true,
    leaseName: str('lease-name'),
    leaseNamespace: str('lease-namespace') ?? env.POD_NAMESPACE,
    identity: str('identity') ?? env.POD_NAME,
    logLevel: str('log-level') ?? env.LOG_LEVEL,
  };
  // Absent means "use the default"; zod treats an explicit undefined the same way.
  for (const k of Object.keys(input)) if (input[k] === undefined || input[k] === '') delete input[k];
  return input as WatcherConfigInput;
}

function defaultStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (sig: string) => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      resolve(sig);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

export async function runWatcherCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunWatcherOptions = {},
): Promise<number> {
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    err(`podgate watcher: ${errorMessage(error)}\nRun 'podgate watcher --help' for usage.`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${WATCHER_HELP}\n`);
    return 0;
  }
  const parsed = parseWatcherConfig(configInput(values, env));
  if (!parsed.ok) {
    err(`podgate watcher: invalid configuration:\n${parsed.message}`);
    return 1;
  }
  const config = parsed.config;
  const logger = createLogger(config.logLevel, options.logDestination);
  const stopSignal = options.stopSignal ?? defaultStopSignal();

  let kube: KubeAccess | null = null;
  let store: IdentityStore | null = null;
  let http: HttpServerHandle | null = null;
  try {
    if (!config.podsFile) {
      // KUBECONFIG may list several files; the first one names the cluster to use.
      const kubeconfigPath = config.kubeconfig?.split(delimiter).find((p) => p !== '');
      const host = env.KUBERNETES_SERVICE_HOST;
      const port = env.KUBERNETES_SERVICE_PORT ?? '443';
      kube = await loadKubeAccess({
        kubeconfigPath,
        inCluster: !kubeconfigPath && host ? { host, port } : undefined,
      });
    }
    store = await createStore(config, logger);
  } catch (error) {
    err(`podgate watcher: ${errorMessage(error)}`);
    await store?.close();
    return 1;
  }

  const metrics = createMetrics();
  const deps = { clock: systemClock, logger, metrics };
  const watcherConfig = {
    cluster: config.cluster,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTtlMs: config.heartbeatTtlMs,
    apiGraceMs: config.apiGraceMs,
    resyncIntervalMs: config.resyncIntervalMs,
  };
  const runOne = (term?: LeaderTerm): RunningWatcher =>
    startWatcher(term === undefined ? watcherConfig : { ...watcherConfig, writerEpoch: term.epoch }, {
      store: store!,
      source: createPodSource(config, kube, deps),
      ...deps,
      ...(term === undefined ? {} : { onDeposed: term.deposed }),
    });
  const runner = config.leaderElect
    ? runWithLeaderElection(leaderOptions(config, env), { api: createKubeLeaseApi(kube!), ...deps }, runOne)
    : singleRunner(runOne());

  try {
    const app = createHttpApp({ probe: runner, registry: metrics.registry });
    http = await listenHttp(app, config.listen.host, config.listen.port);
    logger.info({ listen: `${config.listen.host}:${http.port}` }, 'serving /healthz, /readyz, /metrics');
    options.onListening?.(http.port);
  } catch (error) {
    err(
      `podgate watcher: cannot listen on ${config.listen.host}:${config.listen.port}: ${errorMessage(error)}`,
    );
    await runner.stop();
    await store.close();
    return 1;
  }

  const signal = await stopSignal;
  logger.info({ signal: String(signal) }, 'stopping');
  await runner.stop();
  await http.close();
  await store.close();
  logger.info('stopped');
  return 0;
}

function leaderOptions(config: WatcherConfig, env: NodeJS.ProcessEnv) {
  return {
    namespace: config.leaseNamespace ?? 'default',
    name: config.leaseName,
    identity: config.identity ?? env.HOSTNAME ?? hostname(),
    leaseDurationMs: 15_000,
    renewIntervalMs: 2_000,
    renewDeadlineMs: 10_000,
  };
}

interface Runner {
  readiness(): { ready: boolean; detail: Record<string, unknown> };
  stop(): Promise<void>;
}

function singleRunner(watcher: RunningWatcher): Runner {
  return {
    readiness: () => {
      const status = watcher.status();
      return { ready: status.synced && status.heartbeating, detail: { watcher: status } };
    },
    stop: () => watcher.stop(),
  };
}

export type { Logger };
