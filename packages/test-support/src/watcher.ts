// Watcher pieces with test-speed timings (a separate entry point, so that only tests of
// the watcher load it).
import type { Logger } from '@podgate/runtime';
import { systemClock } from '@podgate/runtime';
import {
  createKubeApi,
  type KubeAccess,
  KubernetesPodSource,
  type KubernetesSourceOptions,
  recordDeriver,
  type WatcherMetrics,
} from '@podgate/watcher';

/** A Kubernetes pod source with test-speed timings; `options` overrides them. */
export function testKubeSource(
  access: KubeAccess,
  deps: { logger: Logger; metrics: WatcherMetrics },
  options: Partial<KubernetesSourceOptions> = {},
): KubernetesPodSource {
  return new KubernetesPodSource(
    { api: createKubeApi(access), derive: recordDeriver(), clock: systemClock, ...deps },
    {
      pageSize: 100,
      watchIdleTimeoutMs: 5_000,
      watchTimeoutSeconds: 60,
      backoff: { baseMs: 20, capMs: 200 },
      ...options,
    },
  );
}
