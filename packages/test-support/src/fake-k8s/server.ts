// A fake Kubernetes API server for pods (and Leases), over real HTTP on 127.0.0.1.
// It behaves like the real one where the watcher depends on it: lists with a
// resourceVersion and limit/continue pagination over a consistent snapshot, watches as
// JSON lines from a resourceVersion with a bounded history (too old: an ERROR event with a
// 410 Status, as kube-apiserver sends it), bookmarks on request, timeoutSeconds, bearer
// tokens, optimistic concurrency on Leases. Tests drive it: change pods, drop or silence
// watches, compact the history, take the server down, count requests.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { kubeconfigText } from './kubeconfig.js';
import { handleLease } from './leases-http.js';
import { listPods, watchPods } from './pods-http.js';
import { sendStatus } from './respond.js';
import { createState, endWatch, objectKey, recordEvent, sendBookmark } from './state.js';
import type { FakeK8sApi, FakeK8sApiOptions } from './types.js';

const LEASE_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
const NAMESPACED_PODS = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/;

export async function startFakeK8sApi(options: FakeK8sApiOptions = {}): Promise<FakeK8sApi> {
  const token = options.token ?? `token-${randomUUID()}`;
  const state = createState(options);
  const { pods, leases, watches, counts } = state;
  const sockets = new Set<Socket>();
  let down = false;
  let failing: number | null = null;
  let hung = false;
  const held = new Set<ServerResponse>();
  let listGate: Promise<void> | null = null;

  const api: FakeK8sApi = {
    url: '',
    port: 0,
    token,
    get resourceVersion() {
      return state.rv;
    },
    counts,
    watchedFrom: state.watchedFrom,
    get activeWatches() {
      return watches.size;
    },
    addPod(pod) {
      const k = objectKey(pod.metadata.namespace, pod.metadata.name);
      if (pods.has(k)) throw new Error(`pod ${k} exists`);
      const stored = structuredClone(pod);
      stored.metadata.uid ??= randomUUID();
      stored.metadata.resourceVersion = String(++state.rv);
      pods.set(k, stored);
      recordEvent(state, 'ADDED', stored);
      return structuredClone(stored);
    },
    updatePod(namespace, name, change) {
      const k = objectKey(namespace, name);
      const current = pods.get(k);
      if (!current) throw new Error(`no pod ${k}`);
      // Replace, never mutate: snapshots of paginated lists hold references.
      const next = structuredClone(current);
      change(next);
      next.metadata.resourceVersion = String(++state.rv);
      pods.set(k, next);
      recordEvent(state, 'MODIFIED', next);
      return structuredClone(next);
    },
    deletePod(namespace, name) {
      const k = objectKey(namespace, name);
      const current = pods.get(k);
      if (!current) throw new Error(`no pod ${k}`);
      pods.delete(k);
      const last = structuredClone(current);
      last.metadata.resourceVersion = String(++state.rv);
      recordEvent(state, 'DELETED', last);
      return structuredClone(last);
    },
    seedPods(list) {
      for (const pod of list) {
        pod.metadata.uid ??= randomUUID();
        pod.metadata.resourceVersion = String(++state.rv);
        pods.set(objectKey(pod.metadata.namespace, pod.metadata.name), pod);
      }
      // Nobody saw these as events: resuming from before them must relist.
      state.history = [];
      state.compactedAt = state.rv;
    },
    getPod(namespace, name) {
      const pod = pods.get(objectKey(namespace, name));
      return pod ? structuredClone(pod) : undefined;
    },
    dropWatches() {
      for (const watch of [...watches]) {
        endWatch(state, watch);
        watch.res.socket?.destroy();
      }
    },
    silence() {
      for (const watch of watches) watch.silenced = true;
    },
    compactHistory() {
      state.history = [];
      state.compactedAt = state.rv;
    },
    setHung(value) {
      hung = value;
      if (!value) {
        for (const res of held) res.socket?.destroy();
        held.clear();
      }
    },
    failWith(status) {
      failing = status;
      if (status !== null) api.dropWatches();
    },
    setDown(value) {
      down = value;
      if (value) api.dropWatches();
    },
    sendBookmarks() {
      for (const watch of watches) sendBookmark(state, watch);
    },
    holdLists() {
      let release!: () => void;
      listGate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        listGate = null;
        release();
      };
    },
    sendRaw(text) {
      for (const watch of watches) if (!watch.silenced) watch.res.write(text);
    },
    hostileLists(respond) {
      state.hostileList = respond;
    },
    getLease(namespace, name) {
      const lease = leases.get(objectKey(namespace, name));
      return lease ? structuredClone(lease) : undefined;
    },
    writeKubeconfig(path) {
      writeFileSync(path, kubeconfigText(api.url, token));
      return path;
    },
    close: () =>
      new Promise<void>((resolve) => {
        api.dropWatches();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (down) return sendStatus(res, 503, 'ServiceUnavailable', 'the fake API server is down');
    if (failing !== null)
      return sendStatus(res, failing, 'InternalError', `the fake API server answers ${failing}`);
    if (hung) {
      held.add(res);
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      counts.unauthorized++;
      return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const path = url.pathname;
    const podsNs = NAMESPACED_PODS.exec(path);
    if ((path === '/api/v1/pods' || podsNs) && req.method === 'GET') {
      const namespace = podsNs ? decodeURIComponent(podsNs[1]!) : undefined;
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        return watchPods(state, req, res, url, namespace);
      }
      if (listGate) {
        void listGate.then(() => listPods(state, res, url, namespace));
        return;
      }
      return listPods(state, res, url, namespace);
    }
    const lease = LEASE_PATH.exec(path);
    if (lease) {
      const name = lease[2] ? decodeURIComponent(lease[2]) : undefined;
      void handleLease(state, req, res, decodeURIComponent(lease[1]!), name);
      return;
    }
    sendStatus(res, 404, 'NotFound', `no route for ${req.method} ${path}`);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake API: no port');
  api.port = address.port;
  api.url = `http://127.0.0.1:${address.port}`;
  return api;
}
