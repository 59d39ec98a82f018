// @podgate/watcher: lists and watches pods, writes identity records to the store.
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { type Clock, systemClock } from './clock.js';
export { configInput, type RunWatcherOptions, runWatcherCommand, WATCHER_HELP } from './command.js';
export { parseDuration, parseWatcherConfig, type WatcherConfig, watcherConfigSchema } from './config.js';
export { createPodSource, createStore, podsFileParser, recordDeriver } from './deps.js';
export { WatcherError, type WatcherErrorCode } from './errors.js';
export { createHttpApp, type ProbeSource } from './http/app.js';
export { listenHttp } from './http/server.js';
export { createKubeLeaseApi, type Lease, type LeaseApi, LeaseConflict } from './leader/lease-api.js';
export {
  type LeaderOptions,
  type LeaderRunner,
  type LeaderTerm,
  runWithLeaderElection,
} from './leader/supervisor.js';
export { createLogger } from './logger.js';
export { createMetrics, type WatcherMetrics } from './metrics.js';
export {
  type KubeAccess,
  kubeAccessFromKubeConfig,
  type LoadKubeAccessOptions,
  loadKubeAccess,
} from './sources/kube-access.js';
export { createKubeApi, type KubeApi } from './sources/kube-api.js';
export { KubernetesPodSource, type KubernetesSourceOptions } from './sources/kubernetes.js';
export { PodsFileSource, type PodsFileSourceOptions } from './sources/pods-file.js';
export type { DerivePodRecord, PodSink, PodSource, SourceHealth } from './sources/types.js';
export { PodView, type StoreOp } from './sync/pod-view.js';
export {
  type RunningWatcher,
  type StartWatcherConfig,
  startWatcher,
  type WatcherDeps,
  type WatcherStatus,
} from './watcher.js';
