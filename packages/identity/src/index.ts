export * from './claim.js';
export { assertClusterName } from './cluster-name.js';
export { type DeriveOptions, derivePodRecord, truncateUtf8 } from './derive.js';
export { IdentityError, type IdentityErrorCode } from './errors.js';
export { canonicalIps, normalizeIp, tryNormalizeIp } from './ip.js';
export * from './limits.js';
export { MemoryIdentityStore, type MemoryIdentityStoreOptions } from './memory-store.js';
export * from './model.js';
export { describeStore, openStore, type StoreKind, type StoreOptions, storeKind } from './open-store.js';
export { type PodLike, slimPod } from './pod-like.js';
export { NOT_FOUND_MESSAGE_PREFIX, type PodVarsView, podVarsFromLookup } from './pod-vars.js';
export { parsePodsYaml } from './pods-yaml.js';
export {
  createRedisIdentityStore,
  DEFAULT_KEY_PREFIX,
  RedisIdentityStore,
  type RedisIdentityStoreOptions,
} from './redis-store.js';
export { type ParsedRedisUrl, parseRedisUrl, type RedisEndpoint } from './redis-url.js';
export { compareResourceVersions, maxResourceVersion } from './resource-version.js';
export type {
  FenceResult,
  IdentityReader,
  IdentityStore,
  IdentityWriter,
  ReconcileOptions,
  ReconcileStats,
} from './store.js';
export { DataLostError, isDataLost } from './store.js';
