// Builds the real collaborators from a parsed configuration: the store, the pod source
// and the record derivation. Kept apart from the command so `podgate dev` and tests can
// pick pieces (e.g. a file source with the memory store).
import {
  createRedisIdentityStore,
  derivePodRecord,
  type IdentityStore,
  MemoryIdentityStore,
  type PodLike,
  parsePodsYaml,
} from '@podgate/identity';
import type { Logger } from 'pino';
import { DEFAULT_BACKOFF } from './backoff.js';
import type { Clock } from './clock.js';
import type { WatcherConfig } from './config.js';
import { errorMessage, WatcherError } from './errors.js';
import type { WatcherMetrics } from './metrics.js';
import type { KubeAccess } from './sources/kube-access.js';
import { createKubeApi } from './sources/kube-api.js';
import { KubernetesPodSource } from './sources/kubernetes.js';
import { type ParsePodsFile, PodsFileSource } from './sources/pods-file.js';
import type { DerivePodRecord, PodSource } from './sources/types.js';

export function recordDeriver(annotationPrefixes?: readonly string[]): DerivePodRecord {
  const options = annotationPrefixes ? { annotationPrefixes } : {};
  return (pod) => derivePodRecord(pod as PodLike, options);
}

export function podsFileParser(annotationPrefixes?: readonly string[]): ParsePodsFile {
  const derive = recordDeriver(annotationPrefixes);
  return (text, file) => parsePodsYaml(text, file).map(derive);
}

export function createPodSource(
  config: WatcherConfig,
  access: KubeAccess | null,
  deps: { clock: Clock; logger: Logger; metrics: WatcherMetrics },
): PodSource {
  if (config.podsFile) {
    return new PodsFileSource(
      { parse: podsFileParser(config.annotationPrefixes), ...deps },
      { path: config.podsFile, pollIntervalMs: config.pollIntervalMs },
    );
  }
  if (!access) throw new WatcherError('KUBECONFIG_INVALID', 'no kubeconfig for the Kubernetes API source');
  return new KubernetesPodSource(
    { api: createKubeApi(access), derive: recordDeriver(config.annotationPrefixes), ...deps },
    {
      namespace: config.namespace,
      labelSelector: config.labelSelector,
      pageSize: 500,
      watchIdleTimeoutMs: config.watchIdleTimeoutMs,
      watchTimeoutSeconds: 300,
      backoff: DEFAULT_BACKOFF,
    },
  );
}

export async function createStore(config: WatcherConfig, logger: Logger): Promise<IdentityStore> {
  if (!config.redisUrl && !config.redisCluster) {
    logger.warn(
      'no --redis/REDIS_URL: using the embedded in-memory store, visible to this process only; readers elsewhere see nothing',
    );
    return new MemoryIdentityStore();
  }
  return createRedisIdentityStore({
    ...(config.redisUrl ? { url: config.redisUrl } : {}),
    ...(config.redisCluster ? { clusterNodes: config.redisCluster } : {}),
    ...(config.keyPrefix ? { keyPrefix: config.keyPrefix } : {}),
    onError: (err) => logger.debug({ err: errorMessage(err) }, 'redis connection error'),
  });
}
