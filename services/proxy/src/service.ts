// The proxy service: startProxyService(config, deps) loads the endpoint configuration, opens a
// listener per endpoint it serves, logs one JSON line per connection and counts it, serves
// /healthz /readyz /metrics, reloads on SIGHUP or a changed file (new connections get the new
// configuration; open ones keep theirs; a bad file keeps the last good one), and returns a
// handle whose stop() stops accepting, lets open connections finish up to the drain deadline,
// then ends the rest. The store is a dependency: the entry point opens it and closes it.
import { readFile } from 'node:fs/promises';
import { errorMessage } from '@podgate/errors';
import type { IdentityReader } from '@podgate/identity';
import { formatDiagnostic, loadPolicyFiles } from '@podgate/policy';
import {
  type ConfigReloader,
  createConfigReloader,
  createRegistry,
  formatHostPort,
  type HttpServerHandle,
  type LoadOutcome,
  type Logger,
  listenHttp,
  type Readiness,
  type Registry,
  registerLogDropMetric,
  type ServiceHandle,
  type SignalSource,
} from '@podgate/runtime';
import { planListeners } from './bindings.js';
import type { ProxyConfig } from './config.js';
import { descriptorsNeeded, openFileLimit } from './fd-limit.js';
import { createProxyAdminApp } from './http/app.js';
import type { BoundListener, ListenerPlan } from './listeners.js';
import { connectionLogWriter } from './log-writer.js';
import { ProxyMetrics } from './metrics.js';
import { type ProxyHandle, startProxy } from './proxy.js';
import { sharedLookups } from './shared-lookups.js';

export interface ProxyServiceDeps {
  /** Where identities are looked up; opened (and closed, after stop) by the entry point. */
  store: IdentityReader;
  /** The clusters to consult. */
  clusters: readonly string[];
  logger: Logger;
  registry?: Registry;
  /** SIGHUP reloads; default: none (the CLI passes the process). */
  signals?: SignalSource;
  /** How often the store's reachability is checked for /readyz. Default 2 s. */
  readinessIntervalMs?: number;
}

export interface ProxyService extends ServiceHandle {
  readonly adminPort: number | null;
  readonly registry: Registry;
  listeners(): BoundListener[];
  readiness(): Readiness;
  /** Reloads the configuration now (as SIGHUP does). */
  reload(): Promise<{ applied: boolean; reason?: string }>;
}

export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';
}

/** Reads and loads the configuration files, and plans the listeners; a refusal says why. */
export async function loadProxyPlans(config: ProxyConfig): Promise<LoadOutcome<ListenerPlan[]>> {
  const files: Array<{ path: string; text: string }> = [];
  for (const path of config.configFiles) {
    try {
      files.push({ path, text: await readFile(path, 'utf8') });
    } catch (error) {
      return { ok: false, reason: `${path}: cannot read: ${errorMessage(error)}` };
    }
  }
  const loaded = loadPolicyFiles(files);
  if (!loaded.ok) return { ok: false, reason: loaded.errors.map(formatDiagnostic).join('\n') };
  try {
    const plans = planListeners(loaded.config, config.binds);
    if (plans.length === 0) {
      return {
        ok: false,
        reason:
          'no endpoint to serve: the configuration has no Kubernetes-bound endpoint (bindings: [kubernetes]) and no --bind names one',
      };
    }
    return { ok: true, value: plans };
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
}

export async function startProxyService(config: ProxyConfig, deps: ProxyServiceDeps): Promise<ProxyService> {
  const { logger } = deps;
  const registry = deps.registry ?? createRegistry();
  // Read at scrape time, not set per connection.
  let openNow = () => 0;
  const metrics = new ProxyMetrics(registry, () => openNow());
  registerLogDropMetric(registry, 'podgate_proxy_log_lines_dropped_total', logger);
  const initial = await loadProxyPlans(config);
  if (!initial.ok) throw new ProxyConfigError(initial.reason);

  const now = () => performance.now();
  const clusters = deps.clusters;
  // The line is built only when it will be written.
  const logConnection = logger.isLevelEnabled('info') ? connectionLogWriter(logger) : null;
  const shared = sharedLookups((ip) => deps.store.lookup(ip, clusters), config.lookupShareMs, now);
  const proxy: ProxyHandle = await startProxy(
    initial.value,
    {
      trusted: config.trustedProxies && config.trustedProxies.cidrs.length > 0 ? config.trustedProxies : null,
      maxConnections: config.maxConnections,
      connectTimeoutMs: config.connectTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      halfCloseTimeoutMs: config.halfCloseTimeoutMs,
      proxyHeaderTimeoutMs: config.proxyHeaderTimeoutMs,
      socketLayer: config.socketLayer,
    },
    {
      lookup: shared.lookup,
      onConnection: (record) => {
        metrics.record(record);
        logConnection?.(record);
      },
      onBug: (error) =>
        logger.error({ err: errorMessage(error) }, 'a connection failed unexpectedly; it was closed'),
      onOverLimit: () => {
        metrics.overLimit.inc();
        logger.warn({ max_connections: config.maxConnections }, 'connection refused: --max-connections open');
      },
      now,
    },
  ).catch((error: unknown) => {
    throw new ProxyConfigError(errorMessage(error));
  });
  openNow = () => proxy.open();
  const limit = await openFileLimit();
  if (limit !== null && descriptorsNeeded(config.maxConnections) > limit) {
    logger.warn(
      {
        max_connections: config.maxConnections,
        open_file_limit: limit,
        needed: descriptorsNeeded(config.maxConnections),
      },
      'the open-file limit cannot hold --max-connections forwarded connections (two descriptors each): past it the system drops new connections; raise the limit (ulimit -n) or lower --max-connections',
    );
  }
  for (const l of proxy.listeners()) {
    logger.info(
      { endpoint: l.endpoint, listen: formatHostPort({ host: l.host, port: l.port }) },
      'listening',
    );
  }

  // /readyz: configured, listening, and the store answers (a lookup that is not store_unavailable).
  let storeReachable = true;
  let storeReason = '';
  const checkStore = async () => {
    const r = await deps.store.lookup('0.0.0.0', clusters);
    storeReachable = r.ok || r.reason !== 'store_unavailable';
    storeReason = r.ok ? '' : r.message;
  };
  await checkStore();
  const readinessTimer = setInterval(() => void checkStore(), deps.readinessIntervalMs ?? 2_000);
  readinessTimer.unref();
  let stopping = false;
  const readiness = (): Readiness => ({
    ready: !stopping && storeReachable,
    detail: {
      listeners: proxy.listeners().length,
      open_connections: proxy.open(),
      store: storeReachable ? 'reachable' : `unreachable: ${storeReason}`,
      ...(stopping ? { stopping: true } : {}),
    },
  });

  // The listener swap of the last applied reload (a reload is served once it is done).
  let applying: Promise<void> = Promise.resolve();
  const reloader: ConfigReloader<ListenerPlan[]> = createConfigReloader({
    initial: initial.value,
    load: () => loadProxyPlans(config),
    files: config.configFiles,
    ...(deps.signals !== undefined ? { signals: deps.signals } : {}),
    logger,
    registry,
    onApplied: (plans) => {
      applying = proxy.apply(plans).then(
        () =>
          logger.info({ listeners: proxy.listeners().length }, 'new connections get the new configuration'),
        (error: unknown) =>
          logger.error(
            { err: errorMessage(error) },
            'the new configuration could not be served (a listener); the previous listeners keep serving',
          ),
      );
    },
  });

  let admin: HttpServerHandle | null = null;
  if (config.listen) {
    try {
      admin = await listenHttp(createProxyAdminApp({ probe: { readiness }, registry }), config.listen);
    } catch (error) {
      await reloader.stop();
      clearInterval(readinessTimer);
      await proxy.stop(0);
      throw new ProxyConfigError(`cannot listen on ${formatHostPort(config.listen)}: ${errorMessage(error)}`);
    }
    logger.info(
      { listen: formatHostPort({ host: config.listen.host, port: admin.port }) },
      'serving /healthz, /readyz, /metrics',
    );
  }

  let aborted = 0;
  return {
    adminPort: admin?.port ?? null,
    registry,
    listeners: () => proxy.listeners(),
    readiness,
    reload: async () => {
      const outcome = await reloader.reload('request');
      await applying;
      return outcome.applied ? { applied: true } : { applied: false, reason: outcome.reason };
    },
    async stop() {
      stopping = true;
      // A reload still running must not swap listeners in after this point.
      await reloader.stop();
      await applying;
      clearInterval(readinessTimer);
      logger.info(
        { open_connections: proxy.open(), drain_timeout_ms: config.drainTimeoutMs },
        'stopped accepting; draining open connections',
      );
      ({ aborted } = await proxy.stop(config.drainTimeoutMs));
      if (aborted > 0) logger.warn({ aborted }, 'drain deadline passed: open connections were ended');
      await admin?.close();
    },
    forceStop() {
      admin?.forceClose();
    },
  };
}
