// @podgate/watcher: lists and watches pods, writes identity records to the store.
// The service: config.ts (parseWatcherConfig) and service.ts (startWatcherService);
// the parts below are exported for `podgate dev`, `podgate eval` and tests.
export {
  parseWatcherConfig,
  type WatcherConfig,
  type WatcherConfigInput,
  watcherConfigSchema,
} from './config.js';
export { createPodSource, type PodSourceConfig, podsFileParser, recordDeriver } from './deps.js';
export { WatcherError, type WatcherErrorCode } from './errors.js';
export { createWatcherApp } from './http/app.js';
export { createKubeLeaseApi, type Lease, type LeaseApi, LeaseConflict } from './leader/lease-api.js';
export {
  type LeaderOptions,
  type LeaderRunner,
  type LeaderTerm,
  runWithLeaderElection,
} from './leader/supervisor.js';
export { createMetrics, type WatcherMetrics } from './metrics.js';
export { startWatcherService, type WatcherService, type WatcherServiceDeps } from './service.js';
export {
  type KubeAccess,
  type KubeAccessSource,
  kubeAccessFromKubeConfig,
  kubeAccessOptions,
  type LoadKubeAccessOptions,
  loadKubeAccess,
  locateKubeAccess,
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
