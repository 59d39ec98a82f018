// Builds the watcher's real collaborators from its configuration: the pod source and the
// record derivation. `podsFileParser` is also what `podgate eval --pods-file` reads a pods
// file with, so a file the watcher refuses is refused there too.
import { derivePodRecord, type PodLike, parsePodsYaml } from '@podgate/identity';
import { type Clock, DEFAULT_BACKOFF, type Logger } from '@podgate/runtime';
import type { WatcherConfig } from './config.js';
import { WatcherError } from './errors.js';
import type { WatcherMetrics } from './metrics.js';
import type { KubeAccess } from './sources/kube-access.js';
import { createKubeApi } from './sources/kube-api.js';
import { KubernetesPodSource } from './sources/kubernetes.js';
import { type ParsePodsFile, PodsFileSource } from './sources/pods-file.js';
import type { DerivePodRecord, PodSource, SourcedRecord } from './sources/types.js';
import { keyOf } from './sync/pod-view.js';

export function recordDeriver(annotationPrefixes?: readonly string[]): DerivePodRecord {
  const options = annotationPrefixes ? { annotationPrefixes } : {};
  return (pod) => {
    const record: SourcedRecord = derivePodRecord(pod as PodLike, options);
    // derivePodRecord succeeded, so both are non-empty strings.
    const { namespace, name } = (pod as { metadata: { namespace: string; name: string } }).metadata;
    // A cut name or namespace could spell a real pod's: the view keys by the uncut ones.
    if (record.name !== name || record.namespace !== namespace) record.uncutKey = keyOf(namespace, name);
    return record;
  };
}

export function podsFileParser(annotationPrefixes?: readonly string[]): ParsePodsFile {
  const derive = recordDeriver(annotationPrefixes);
  return (text, file) => parsePodsYaml(text, file).map(derive);
}

export type PodSourceConfig = Pick<
  WatcherConfig,
  'podsFile' | 'pollIntervalMs' | 'annotationPrefixes' | 'namespace' | 'labelSelector' | 'watchIdleTimeoutMs'
>;

export function createPodSource(
  config: PodSourceConfig,
  access: KubeAccess | null,
  deps: { clock: Clock; logger: Logger; metrics: WatcherMetrics },
): PodSource {
  if (config.podsFile) {
    return new PodsFileSource(
      { parse: podsFileParser(config.annotationPrefixes), ...deps },
      { path: config.podsFile, pollIntervalMs: config.pollIntervalMs },
    );
  }
  if (!access) throw new WatcherError('invalid_kubeconfig', 'no kubeconfig for the Kubernetes API source');
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
