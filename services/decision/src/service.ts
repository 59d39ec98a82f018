// The decision service: startDecisionService(config, deps) loads the endpoints, policies and
// tokens, serves the app (API, forward-auth, /healthz, /readyz, /metrics, OpenAPI), reloads on
// SIGHUP or a changed file (a request sees the old configuration or the new one; a bad file
// keeps the last good one and says why), and returns a handle whose stop() stops accepting,
// lets requests in flight finish, and closes. The store is a dependency: the entry point
// opens it and closes it after stop().
import { errorMessage, PodgateError } from '@podgate/errors';
import type { IdentityReader } from '@podgate/identity';
import {
  type Clock,
  type ConfigReloader,
  createConfigReloader,
  createRegistry,
  type FileWatcher,
  formatHostPort,
  type HttpServerHandle,
  type Logger,
  listenHttp,
  type Readiness,
  type Registry,
  registerLogDropMetric,
  type ServiceHandle,
  type SignalSource,
} from '@podgate/runtime';
import type { Hono } from 'hono';
import type { DecisionConfig } from './config.js';
import { createDecisionApp } from './http/app.js';
import type { AppEnv } from './http/context.js';
import { type LiveConfig, loadLiveConfig } from './live-config.js';
import { DecisionMetrics } from './metrics.js';
import { startStoreProbe } from './store-probe.js';
import { createValidator } from './validate/pool.js';

export interface DecisionServiceDeps {
  /** Where identities are looked up; opened (and closed, after stop) by the entry point. */
  store: IdentityReader;
  /** The clusters to consult. */
  clusters: readonly string[];
  logger: Logger;
  /** Default: a registry of its own, with the process metrics. */
  registry?: Registry;
  /** SIGHUP reloads; default: none (the CLI passes the process). */
  signals?: SignalSource;
  /** Notices changed configuration and token files; default: stat polling every 500 ms. */
  fileWatcher?: FileWatcher;
  clock?: Clock;
  /** How often the store's reachability is checked for /readyz. Default 2 s. */
  readinessIntervalMs?: number;
}

export interface DecisionService extends ServiceHandle {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly registry: Registry;
  /** The app served (for in-process requests). */
  readonly app: Hono<AppEnv>;
  readiness(): Readiness;
  /** The configuration in force. */
  config(): LiveConfig;
  /** Reloads now, as SIGHUP does. */
  reload(): Promise<{ applied: boolean; reason?: string }>;
}

export class DecisionServiceError extends PodgateError<'invalid_config' | 'listen_failed'> {
  constructor(code: 'invalid_config' | 'listen_failed', message: string) {
    super(code, message);
    this.name = 'DecisionServiceError';
  }
}

export async function startDecisionService(
  config: DecisionConfig,
  deps: DecisionServiceDeps,
): Promise<DecisionService> {
  const { logger, clusters } = deps;
  const registry = deps.registry ?? createRegistry({ processMetricsPrefix: 'podgate_decision_' });
  const metrics = new DecisionMetrics(registry);
  registerLogDropMetric(registry, 'podgate_decision_log_lines_dropped_total', logger);
  const sources = {
    configFiles: config.configFiles,
    ...(config.tokenFile !== undefined ? { tokenFile: config.tokenFile } : {}),
  };
  const initial = await loadLiveConfig(sources);
  if (!initial.ok) throw new DecisionServiceError('invalid_config', initial.reason);
  describe(initial.value, logger);
  if (config.insecureNoAuth) {
    logger.warn(
      '--insecure-no-auth: /v1 answers anyone who can connect; keep this port off any shared network',
    );
  }
  const trusted =
    config.trustedProxies && config.trustedProxies.cidrs.length > 0 ? config.trustedProxies : null;
  if (trusted === null) {
    logger.info(
      'no --trusted-proxies: /v1/forward-auth decides for the TCP peer (the proxy itself), never for a forwarded client',
    );
  }

  const reloader: ConfigReloader<LiveConfig> = createConfigReloader({
    initial: initial.value,
    load: () => loadLiveConfig(sources),
    files: [...config.configFiles, ...(config.tokenFile !== undefined ? [config.tokenFile] : [])],
    ...(deps.fileWatcher !== undefined ? { fileWatcher: deps.fileWatcher } : {}),
    ...(deps.signals !== undefined ? { signals: deps.signals } : {}),
    logger,
    registry,
    onApplied: (live) => describe(live, logger),
  });

  const probe = startStoreProbe(deps.store, clusters, deps.readinessIntervalMs ?? 2_000, (up, why) => {
    metrics.storeReachable.set(up ? 1 : 0);
    if (up) logger.info({ clusters }, 'identity store reachable');
    else logger.warn({ clusters, reason: why }, 'identity store unreachable: /readyz answers 503');
  });
  await probe.check();
  let stopping = false;
  const readiness = (): Readiness => ({
    ready: !stopping && probe.reachable(),
    detail: {
      store: probe.reachable() ? 'reachable' : `unreachable: ${probe.reason()}`,
      endpoints: reloader.current().policy.endpoints.length,
      ...(stopping ? { stopping: true } : {}),
    },
  });

  const validator = createValidator({
    timeoutMs: config.validateTimeoutMs,
    maxHeapBytes: config.validateMemoryBytes,
  });
  const app = createDecisionApp({
    validator,
    config: () => reloader.current(),
    store: deps.store,
    clusters,
    trustedProxies: trusted,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    metrics,
    readiness,
    stopping: () => stopping,
    ...(deps.clock !== undefined ? { clock: deps.clock } : {}),
  });
  let server: HttpServerHandle;
  try {
    server = await listenHttp(app as unknown as Hono, config.listen);
  } catch (error) {
    await reloader.stop();
    probe.stop();
    await validator.close();
    throw new DecisionServiceError(
      'listen_failed',
      `cannot listen on ${formatHostPort(config.listen)}: ${errorMessage(error)}`,
    );
  }
  logger.info(
    {
      listen: formatHostPort({ host: config.listen.host, port: server.port }),
      clusters,
      trusted_proxies: trusted?.cidrs ?? [],
      auth: config.insecureNoAuth ? 'none' : 'bearer',
    },
    'serving /v1 (decisions, identities, validate, forward-auth), /healthz, /readyz, /metrics, /openapi.json',
  );

  return {
    port: server.port,
    registry,
    app,
    readiness,
    config: () => reloader.current(),
    reload: async () => {
      const outcome = await reloader.reload('request');
      return outcome.applied ? { applied: true } : { applied: false, reason: outcome.reason };
    },
    async stop() {
      stopping = true;
      // A reload still running finishes (and is discarded) before "stopped".
      await reloader.stop();
      probe.stop();
      logger.info('stopped accepting; finishing requests in flight');
      // A validation still loading is answered 503 at once rather than held to the drain deadline.
      await validator.close();
      await server.close();
    },
    forceStop() {
      server.forceClose();
    },
  };
}

function describe(live: LiveConfig, logger: Logger): void {
  for (const warning of live.warnings) logger.warn({ warning }, 'configuration warning');
  const dryRun = live.policy.endpoints.filter((e) => e.dryRun).map((e) => e.url.href);
  logger.info(
    {
      endpoints: live.policy.endpoints.map((e) => e.url.href),
      ...(dryRun.length > 0 ? { dry_run: dryRun } : {}),
      ...(live.tokens !== null ? { tokens: live.tokens.count } : {}),
    },
    'configuration loaded',
  );
  if (live.tokens !== null && live.tokens.count === 0) {
    logger.warn('the token file holds no token: every /v1 request is refused (401) until one is added');
  }
}
