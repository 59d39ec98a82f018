// The watcher service: startWatcherService(config, deps) loads the Kubernetes access its
// configuration names, runs the watcher (one, or one per leader term with
// --leader-elect), serves the admin app, and returns a handle whose stop() drains it in
// order: the watcher (flushing pending writes, releasing the Lease), then the admin
// server. The store is a dependency: the entry point opens it, and closes it after stop().
import { hostname } from 'node:os';
import { errorMessage } from '@podgate/errors';
import type { IdentityWriter } from '@podgate/identity';
import {
  type Clock,
  formatHostPort,
  type HttpServerHandle,
  type Logger,
  listenHttp,
  type Readiness,
  type ServiceHandle,
  systemClock,
} from '@podgate/runtime';
import type { WatcherConfig } from './config.js';
import { createPodSource } from './deps.js';
import { WatcherError } from './errors.js';
import { createWatcherApp } from './http/app.js';
import { createKubeLeaseApi } from './leader/lease-api.js';
import { type LeaderRunner, type LeaderTerm, runWithLeaderElection } from './leader/supervisor.js';
import { createMetrics, type WatcherMetrics } from './metrics.js';
import { type KubeAccess, kubeAccessOptions, loadKubeAccess } from './sources/kube-access.js';
import { type RunningWatcher, type StartWatcherConfig, startWatcher } from './watcher.js';

export interface WatcherServiceDeps {
  /** Where identities are written; opened (and closed, after stop) by the entry point. */
  store: IdentityWriter;
  logger: Logger;
  clock?: Clock;
  metrics?: WatcherMetrics;
  /** Kubernetes API access; default: loaded as the configuration says (unused with a pods file). */
  kube?: KubeAccess;
}

export interface WatcherService extends ServiceHandle {
  /** The admin server's port (the bound one when 0 was asked for); null without one. */
  readonly adminPort: number | null;
  readonly metrics: WatcherMetrics;
  /** Synced and heartbeating, or a standby replica that can reach the Lease. */
  readiness(): Readiness;
  /** The watcher writing now; null for a standby replica. */
  watcher(): RunningWatcher | null;
}

export async function startWatcherService(
  config: WatcherConfig,
  deps: WatcherServiceDeps,
): Promise<WatcherService> {
  const { logger } = deps;
  const common = { clock: deps.clock ?? systemClock, logger, metrics: deps.metrics ?? createMetrics() };
  const kube = config.podsFile ? null : (deps.kube ?? (await loadKubeAccess(kubeAccessOptions(config))));
  const sync: StartWatcherConfig = {
    cluster: config.cluster,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTtlMs: config.heartbeatTtlMs,
    apiGraceMs: config.apiGraceMs,
    resyncIntervalMs: config.resyncIntervalMs,
  };
  const runOne = (term?: LeaderTerm): RunningWatcher =>
    startWatcher(term === undefined ? sync : { ...sync, writerEpoch: term.epoch }, {
      store: deps.store,
      source: createPodSource(config, kube, common),
      ...common,
      ...(term === undefined ? {} : { onDeposed: term.deposed }),
    });
  const runner: Omit<LeaderRunner, 'leading'> =
    config.leaderElect && kube
      ? runWithLeaderElection(leaderOptions(config), { api: createKubeLeaseApi(kube), ...common }, runOne)
      : singleRunner(runOne());

  let admin: HttpServerHandle | null = null;
  if (config.listen) {
    try {
      admin = await listenHttp(
        createWatcherApp({ probe: runner, registry: common.metrics.registry }),
        config.listen,
      );
    } catch (error) {
      await runner.stop();
      const where = formatHostPort(config.listen);
      throw new WatcherError('listen_failed', `cannot listen on ${where}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    const listen = formatHostPort({ host: config.listen.host, port: admin.port });
    logger.info({ listen }, 'serving /healthz, /readyz, /metrics');
  }

  return {
    adminPort: admin?.port ?? null,
    metrics: common.metrics,
    readiness: () => runner.readiness(),
    watcher: () => runner.watcher(),
    async stop() {
      await runner.stop();
      await admin?.close();
    },
    forceStop() {
      admin?.forceClose();
    },
  };
}

function leaderOptions(config: WatcherConfig) {
  return {
    namespace: config.leaseNamespace ?? 'default',
    name: config.leaseName,
    identity: config.identity ?? hostname(),
    leaseDurationMs: 15_000,
    renewIntervalMs: 2_000,
    renewDeadlineMs: 10_000,
  };
}

function singleRunner(watcher: RunningWatcher): Omit<LeaderRunner, 'leading'> {
  return {
    readiness: () => {
      const status = watcher.status();
      return { ready: status.synced && status.heartbeating, detail: { watcher: status } };
    },
    watcher: () => watcher,
    stop: () => watcher.stop(),
  };
}
