// @podgate/test-support: for tests only (never imported by source files). Real servers,
// not mocks: redis-server processes, a fake Kubernetes API over real HTTP.
// Watcher helpers are in '@podgate/test-support/watcher'.
export { type CapturedIo, captureIo } from './cli-io.js';
export {
  type FakeK8sApi,
  type FakeK8sApiOptions,
  type FakePod,
  podObject,
  startFakeK8sApi,
} from './fake-k8s/index.js';
export {
  type FaultUpstream,
  startFaultUpstream,
  type UpstreamArrival,
  type UpstreamMode,
} from './fault-upstream.js';
export { type FreshRun, runInFreshNode } from './fresh-node.js';
export {
  findHaproxy,
  haproxyVersion,
  hasIpv6Loopback,
  type RunningHaproxy,
  startHaproxy,
} from './haproxy.js';
export { type HeapSample, heapProbeEnv, readHeapSamples } from './heap-probe.js';
export { owner } from './identity.js';
export { memoryLogger } from './logger.js';
export {
  type LogLine,
  type PodgateExit,
  type PodgateProcess,
  spawnPodgate,
} from './podgate-process.js';
export { freePort } from './ports.js';
export { type ProcStats, readProcStats, slope } from './proc-stats.js';
export { type RedisCluster, type RedisServer, redisCli, startRedis, startRedisCluster } from './redis.js';
export { eventually, waitFor } from './wait.js';
