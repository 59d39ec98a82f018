// A hostile or broken Kubernetes API: garbage watch lines, events that are not pods, list
// replies that are not lists, replies too large to hold. The watcher logs, restarts and keeps
// serving (the bounded readers themselves: services/watcher/src/sources/kube-http.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import {
  type FakeK8sApi,
  memoryLogger,
  owner,
  podObject,
  startFakeK8sApi,
  waitFor,
} from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import { createMetrics, loadKubeAccess, type RunningWatcher, startWatcher } from '@podgate/watcher';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const CLUSTER = 'hostile';
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hostile-kube-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the watcher against a hostile API', () => {
  let api: FakeK8sApi;
  let store: MemoryIdentityStore;
  let watcher: RunningWatcher;
  let logs: () => Array<Record<string, unknown>>;

  beforeEach(async () => {
    api = await startFakeK8sApi({ historyLimit: 1000 });
    const access = await loadKubeAccess({ kubeconfigPath: api.writeKubeconfig(join(dir, `kc-${++n}`)) });
    store = new MemoryIdentityStore();
    const metrics = createMetrics();
    const log = memoryLogger();
    logs = log.lines;
    const source = testKubeSource(
      access,
      { logger: log.logger, metrics },
      { pageSize: 50, watchIdleTimeoutMs: 2000, backoff: { baseMs: 10, capMs: 100 } },
    );
    watcher = startWatcher(
      {
        cluster: CLUSTER,
        heartbeatIntervalMs: 50,
        heartbeatTtlMs: 2000,
        apiGraceMs: 2000,
        storeBackoff: { baseMs: 10, capMs: 100 },
      },
      { store, source, logger: log.logger, metrics },
    );
    api.addPod(podObject({ name: 'before', namespace: 'ns', ip: '10.0.0.1' }));
    await waitFor('first pod', async () => (await owner(store, '10.0.0.1', CLUSTER)) === 'ns/before');
    await waitFor('watch open', () => api.activeWatches === 1);
  });
  afterEach(async () => {
    await watcher.stop();
    await api.close();
    await store.close();
  });

  /** After the hostile input the watcher still follows the cluster. */
  async function stillServing(ip: string): Promise<void> {
    api.addPod(podObject({ name: `after-${ip}`, namespace: 'ns', ip }));
    await waitFor(
      'a later pod reaches the store',
      async () => (await owner(store, ip, CLUSTER)) === `ns/after-${ip}`,
    );
    expect(await owner(store, '10.0.0.1', CLUSTER)).toBe('ns/before');
  }

  it.each([
    ['a line that is not JSON', 'this is not json\n', true],
    ['a truncated JSON object', '{"type":"ADDED","object":{"metadata":\n', true],
    // These crashed the process (a TypeError in the stream's data handler) before the
    // watch lines were checked for shape.
    ['a JSON null', 'null\n', true],
    ['an event whose type is a number', '{"type":5,"object":{}}\n', true],
    ['an event of an unknown type', `${JSON.stringify({ type: 'FOO', object: { kind: 'Pod' } })}\n`, true],
    ['a JSON array', '[1,2,3]\n', true],
    [
      'an object that is not a pod',
      `${JSON.stringify({ type: 'ADDED', object: { kind: 'Secret', metadata: { name: 'x' } } })}\n`,
      false,
    ],
    [
      'a pod without a uid',
      `${JSON.stringify({ type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'x', namespace: 'ns', resourceVersion: '999999' } } })}\n`,
      false,
    ],
    [
      'an ERROR event with a Failure Status',
      `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', code: 500, message: 'etcd on fire' } })}\n`,
      true,
    ],
  ])('%s', async (_name, line, restarts) => {
    const watchesBefore = api.counts.watch;
    api.sendRaw(line);
    if (restarts)
      await waitFor(
        'the watch is reopened',
        () => api.counts.watch > watchesBefore && api.activeWatches === 1,
      );
    await stillServing(`10.0.1.${++n % 250}`);
    if (!restarts)
      expect(logs().some((l) => l.msg === 'skipping a pod object that cannot be read')).toBe(true);
  });

  it.each([
    ['not JSON', (res: import('node:http').ServerResponse) => res.end('<html>oops</html>'), 2],
    [
      'HTTP 200 with a Failure Status',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'nope', code: 500 }),
        );
      },
      2,
    ],
    // A complete listing: the garbage items are skipped, the real pod is kept.
    [
      'items that are not pods beside a real one',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const items = [null, 5, 'x', [1], { kind: 'Secret' }, api.getPod('ns', 'before')];
        res.end(
          JSON.stringify({
            kind: 'PodList',
            metadata: { resourceVersion: String(api.resourceVersion) },
            items,
          }),
        );
      },
      1,
    ],
  ])(
    'a relist answered with %s: retried or read, the last good state kept',
    async (_name, respond, minLists) => {
      api.hostileLists(respond);
      // A change the watcher misses, then history forgotten: resuming gets 410 and must relist.
      api.silence();
      api.addPod(podObject({ name: 'missed', namespace: 'ns', ip: '10.0.3.1' }));
      api.compactHistory();
      const lists = api.counts.list;
      api.dropWatches();
      await waitFor('relists are attempted', () => api.counts.list >= lists + (minLists as number));
      expect(await owner(store, '10.0.0.1', CLUSTER)).toBe('ns/before');
      api.hostileLists(null);
      await stillServing(`10.0.2.${++n % 250}`);
    },
  );
});
