// The supervision policy of the Kubernetes source, driven by a scripted API and a clock
// that records every backoff sleep instead of waiting.
import type { PodRecord } from '@podgate/identity';
import type { Clock } from '@podgate/runtime';
import { memoryLogger, waitFor } from '@podgate/test-support';
import { expect, it } from 'vitest';
import { WatcherError } from '../errors.js';
import { createMetrics } from '../metrics.js';
import type { KubeApi, WatchHandlers } from './kube-api.js';
import { KubernetesPodSource } from './kubernetes.js';

type Step = 'refuse' | 'open-then-drop' | 'gone' | 'hang';

function scriptedApi(steps: Step[]) {
  const log: string[] = [];
  const api: KubeApi = {
    async listPods() {
      log.push('list');
      return { items: [], resourceVersion: '10', continueToken: undefined };
    },
    watchPods(query, handlers: WatchHandlers, signal) {
      const step = steps.shift() ?? 'hang';
      log.push(`watch@${query.resourceVersion}:${step}`);
      if (step === 'refuse') return Promise.reject(new WatcherError('kube_api_network', 'refused'));
      if (step === 'gone')
        return Promise.reject(new WatcherError('kube_api_gone', 'gone', { statusCode: 410 }));
      handlers.onOpen();
      if (step === 'open-then-drop') return Promise.reject(new WatcherError('kube_api_network', 'dropped'));
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    },
  };
  return { api, log };
}

it('backs off exponentially while failing, afresh after a watch that worked, and relists on 410', async () => {
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => Date.now(),
    random: () => 0.999999,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  const { api, log } = scriptedApi(['refuse', 'refuse', 'refuse', 'open-then-drop', 'refuse', 'gone']);
  const listings: PodRecord[][] = [];
  const source = new KubernetesPodSource(
    { api, derive: () => ({}) as PodRecord, clock, logger: memoryLogger().logger, metrics: createMetrics() },
    {
      pageSize: 10,
      watchIdleTimeoutMs: 60_000,
      watchTimeoutSeconds: 60,
      backoff: { baseMs: 100, capMs: 1_000 },
    },
  );
  source.start({ listing: (r) => listings.push(r), upsert: () => {}, remove: () => {} });
  await waitFor('second listing', () => listings.length === 2);
  await waitFor('watching again', () => log.length === 9);
  await source.stop();
  expect(sleeps).toEqual([100, 200, 400, 100, 200]);
  expect(log).toEqual([
    'list',
    'watch@10:refuse',
    'watch@10:refuse',
    'watch@10:refuse',
    'watch@10:open-then-drop',
    'watch@10:refuse',
    'watch@10:gone',
    'list',
    'watch@10:hang',
  ]);
  expect(source.health().failingSince).toBeNull();
});
