// A hostile or broken Kubernetes API: garbage watch lines, events that are not pods, list
// replies that are not lists, replies too large to hold. The watcher logs, restarts and keeps
// serving; the bounded readers in kube-http.ts refuse what cannot be held.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import { createMetrics, loadKubeAccess, type RunningWatcher, startWatcher } from '@podgate/watcher';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LineSplitter, readBody } from '../services/watcher/src/sources/kube-http.js';
import { memoryLogger, owner, testKubeSource, waitFor } from '../services/watcher/src/test-helpers.js';
import { type FakeK8sApi, podObject, startFakeK8sApi } from './support/fake-k8s-api.js';

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

describe('bounded readers', () => {
  let server: Server;
  let url: string;
  let reply: (res: import('node:http').ServerResponse) => void;
  beforeAll(async () => {
    server = createServer((_req, res) => reply(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = () =>
    new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      import('node:http').then(({ get: httpGet }) => httpGet(url, resolve).on('error', reject));
    });

  it('readBody refuses a reply over its limit and drops the connection', async () => {
    reply = (res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.destroy());
      pump();
    };
    const res = await get();
    await expect(readBody(res, 1024 * 1024)).rejects.toMatchObject({
      code: 'API_PROTOCOL',
      message: expect.stringMatching(/exceeds 1048576 bytes/),
    });
    await waitFor('the connection is dropped', () => res.destroyed);
  });

  it('readBody reads a reply within its limit', async () => {
    reply = (res) => res.end('{"ok":true}');
    expect(await readBody(await get(), 1024)).toBe('{"ok":true}');
  });

  it('LineSplitter: lines across chunks, multi-byte characters split between chunks', () => {
    const splitter = new LineSplitter(64);
    const bytes = Buffer.from('{"a":"é"}\n{"b":1}\npartial', 'utf8');
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    lines.push(...splitter.push(Buffer.from('\n')));
    expect(lines).toEqual(['{"a":"é"}', '{"b":1}', 'partial']);
  });

  it('LineSplitter: an endless line is refused once it passes the limit, in one chunk or many', () => {
    expect(() => new LineSplitter(1024).push(Buffer.alloc(1025, 'x'))).toThrowError(/longer than 1024 bytes/);
    const splitter = new LineSplitter(1024);
    expect(() => {
      for (let i = 0; i < 2000; i++) splitter.push(Buffer.from('x'));
    }).toThrowError(expect.objectContaining({ code: 'API_PROTOCOL' }));
    // A line of exactly the limit is fine.
    expect(new LineSplitter(4).push(Buffer.from('abcd\n'))).toEqual(['abcd']);
  });
});
