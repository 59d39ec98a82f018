// A fake Kubernetes API server for pods (and Leases), over real HTTP on 127.0.0.1.
// It behaves like the real one where the watcher depends on it: lists with a
// resourceVersion and limit/continue pagination over a consistent snapshot, watches as
// JSON lines from a resourceVersion with a bounded history (too old: an ERROR event with a
// 410 Status, as kube-apiserver sends it), bookmarks on request, timeoutSeconds, bearer
// tokens, optimistic concurrency on Leases. Tests drive it: change pods, drop or silence
// watches, compact the history, take the server down, count requests.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface FakePod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface FakeK8sApiOptions {
  token?: string;
  /** Watch events kept for resuming watches; older versions get 410. Default 10,000. */
  historyLimit?: number;
  /** Send a BOOKMARK this often on watches that ask for them; 0 = never (default). */
  bookmarkIntervalMs?: number;
}

interface WatchClient {
  res: ServerResponse;
  namespace: string | undefined;
  selector: Selector;
  silenced: boolean;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
}

interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: FakePod;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string };
  spec: Record<string, unknown>;
}

type Selector = (labels: Record<string, string> | undefined) => boolean;

export interface FakeK8sApi {
  url: string;
  port: number;
  token: string;
  /** The current resourceVersion (the last one handed out). */
  readonly resourceVersion: number;
  readonly counts: { list: number; watch: number; lease: number; unauthorized: number };
  readonly activeWatches: number;
  addPod(pod: FakePod): FakePod;
  /** Replaces a pod's fields (deep-merged by `change`); bumps its resourceVersion. */
  updatePod(namespace: string, name: string, change: (pod: FakePod) => void): FakePod;
  deletePod(namespace: string, name: string): FakePod;
  /** Adds many pods with no watch events (as if they existed before anyone watched). */
  seedPods(pods: Iterable<FakePod>): void;
  getPod(namespace: string, name: string): FakePod | undefined;
  /** Destroys every watch socket (a dropped connection). */
  dropWatches(): void;
  /** Open watches stay open but receive nothing more (a hung connection). */
  silence(): void;
  /** Forgets the watch history: resuming from any earlier version gets 410. */
  compactHistory(): void;
  /** Down: every request gets 503 and open watches are dropped. */
  setDown(down: boolean): void;
  /** Hung: requests are accepted and never answered (until unhung, then dropped). */
  setHung(hung: boolean): void;
  /** Sends a BOOKMARK with the current version to every watch that asked for them. */
  sendBookmarks(): void;
  /** List requests wait (unanswered) until the returned function is called. */
  holdLists(): () => void;
  /** Hostile: writes `text` as is (no newline added) to every open, unsilenced watch. */
  sendRaw(text: string): void;
  /**
   * Hostile: list requests are answered by `respond` instead (null restores normal lists).
   * It gets the raw response: send anything, or nothing at all.
   */
  hostileLists(respond: ((res: ServerResponse) => void) | null): void;
  getLease(namespace: string, name: string): Lease | undefined;
  writeKubeconfig(path: string): string;
  close(): Promise<void>;
}

export function podObject(init: {
  name: string;
  namespace?: string;
  ip?: string | null;
  ips?: string[];
  uid?: string;
  phase?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
}): FakePod {
  const ips = init.ips ?? (init.ip ? [init.ip] : []);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: init.name,
      namespace: init.namespace ?? 'default',
      uid: init.uid ?? randomUUID(),
      ...(init.labels ? { labels: init.labels } : {}),
      ...(init.annotations ? { annotations: init.annotations } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'example/app:1' }], hostNetwork: init.hostNetwork ?? false },
    status: {
      phase: init.phase ?? 'Running',
      ...(ips[0] ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    },
  };
}

export async function startFakeK8sApi(options: FakeK8sApiOptions = {}): Promise<FakeK8sApi> {
  const token = options.token ?? `token-${randomUUID()}`;
  const historyLimit = options.historyLimit ?? 10_000;
  const pods = new Map<string, FakePod>();
  const leases = new Map<string, Lease>();
  const watches = new Set<WatchClient>();
  let hostileList: ((res: ServerResponse) => void) | null = null;
  const sockets = new Set<Socket>();
  const snapshots = new Map<string, { items: FakePod[]; rv: number; offset: number }>();
  let history: HistoryEntry[] = [];
  /** Versions at or below this are no longer covered by the history. */
  let compactedAt = 0;
  let rv = 1000;
  let down = false;
  let hung = false;
  const held = new Set<ServerResponse>();
  let listGate: Promise<void> | null = null;
  const counts = { list: 0, watch: 0, lease: 0, unauthorized: 0 };

  const key = (ns: string, name: string) => `${ns}/${name}`;

  const record = (type: HistoryEntry['type'], pod: FakePod) => {
    history.push({ rv: Number(pod.metadata.resourceVersion), type, pod });
    if (history.length > historyLimit) {
      const dropped = history.splice(0, history.length - historyLimit);
      compactedAt = dropped[dropped.length - 1]!.rv;
    }
    for (const watch of watches) send(watch, type, pod);
  };

  const send = (watch: WatchClient, type: string, pod: FakePod) => {
    if (watch.silenced) return;
    if (watch.namespace && pod.metadata.namespace !== watch.namespace) return;
    if (!watch.selector(pod.metadata.labels)) return;
    watch.res.write(`${JSON.stringify({ type, object: pod })}\n`);
  };

  const bookmark = (watch: WatchClient) => {
    if (watch.silenced || !watch.bookmarks) return;
    const object = { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(rv) } };
    watch.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
  };

  const endWatch = (watch: WatchClient) => {
    for (const t of watch.timers) clearTimeout(t);
    watches.delete(watch);
  };

  const api: FakeK8sApi = {
    url: '',
    port: 0,
    token,
    get resourceVersion() {
      return rv;
    },
    counts,
    get activeWatches() {
      return watches.size;
    },
    addPod(pod) {
      const k = key(pod.metadata.namespace, pod.metadata.name);
      if (pods.has(k)) throw new Error(`pod ${k} exists`);
      const stored = structuredClone(pod);
      stored.metadata.uid ??= randomUUID();
      stored.metadata.resourceVersion = String(++rv);
      pods.set(k, stored);
      record('ADDED', stored);
      return structuredClone(stored);
    },
    updatePod(namespace, name, change) {
      const k = key(namespace, name);
      const current = pods.get(k);
      if (!current) throw new Error(`no pod ${k}`);
      // Replace, never mutate: snapshots of paginated lists hold references.
      const next = structuredClone(current);
      change(next);
      next.metadata.resourceVersion = String(++rv);
      pods.set(k, next);
      record('MODIFIED', next);
      return structuredClone(next);
    },
    deletePod(namespace, name) {
      const k = key(namespace, name);
      const current = pods.get(k);
      if (!current) throw new Error(`no pod ${k}`);
      pods.delete(k);
      const last = structuredClone(current);
      last.metadata.resourceVersion = String(++rv);
      record('DELETED', last);
      return structuredClone(last);
    },
    seedPods(list) {
      for (const pod of list) {
        pod.metadata.uid ??= randomUUID();
        pod.metadata.resourceVersion = String(++rv);
        pods.set(key(pod.metadata.namespace, pod.metadata.name), pod);
      }
      // Nobody saw these as events: resuming from before them must relist.
      history = [];
      compactedAt = rv;
    },
    getPod(namespace, name) {
      const pod = pods.get(key(namespace, name));
      return pod ? structuredClone(pod) : undefined;
    },
    dropWatches() {
      for (const watch of [...watches]) {
        endWatch(watch);
        watch.res.socket?.destroy();
      }
    },
    silence() {
      for (const watch of watches) watch.silenced = true;
    },
    compactHistory() {
      history = [];
      compactedAt = rv;
    },
    setHung(value) {
      hung = value;
      if (!value) {
        for (const res of held) res.socket?.destroy();
        held.clear();
      }
    },
    setDown(value) {
      down = value;
      if (value) api.dropWatches();
    },
    sendBookmarks() {
      for (const watch of watches) bookmark(watch);
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
      hostileList = respond;
    },
    getLease(namespace, name) {
      const lease = leases.get(key(namespace, name));
      return lease ? structuredClone(lease) : undefined;
    },
    writeKubeconfig(path) {
      writeFileSync(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '  - name: fake',
          '    cluster:',
          `      server: ${api.url}`,
          '      insecure-skip-tls-verify: true',
          'users:',
          '  - name: fake',
          '    user:',
          `      token: ${token}`,
          'contexts:',
          '  - name: fake',
          '    context: { cluster: fake, user: fake }',
          'current-context: fake',
          '',
        ].join('\n'),
      );
      return path;
    },
    close: () =>
      new Promise<void>((resolve) => {
        api.dropWatches();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const status = (res: ServerResponse, code: number, reason: string, message: string) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
  };

  const json = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const listPods = (res: ServerResponse, url: URL, namespace: string | undefined) => {
    counts.list++;
    if (hostileList) {
      hostileList(res);
      return;
    }
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const token = url.searchParams.get('continue');
    let snapshot: { items: FakePod[]; rv: number; offset: number };
    if (token) {
      const found = snapshots.get(token);
      if (!found || found.rv < compactedAt) {
        snapshots.delete(token);
        return status(res, 410, 'Expired', 'The provided continue parameter is too old.');
      }
      snapshots.delete(token);
      snapshot = found;
    } else {
      const selector = parseSelector(url.searchParams.get('labelSelector'));
      const items = [...pods.values()].filter(
        (p) => (!namespace || p.metadata.namespace === namespace) && selector(p.metadata.labels),
      );
      snapshot = { items, rv, offset: 0 };
    }
    const end = limit > 0 ? Math.min(snapshot.offset + limit, snapshot.items.length) : snapshot.items.length;
    const page = snapshot.items.slice(snapshot.offset, end);
    let next: string | undefined;
    if (end < snapshot.items.length) {
      next = randomUUID();
      snapshots.set(next, { ...snapshot, offset: end });
    }
    json(res, 200, {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(snapshot.rv), ...(next ? { continue: next } : {}) },
      items: page,
    });
  };

  const watchPods = (req: IncomingMessage, res: ServerResponse, url: URL, namespace: string | undefined) => {
    counts.watch++;
    const from = url.searchParams.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const watch: WatchClient = {
      res,
      namespace,
      selector: parseSelector(url.searchParams.get('labelSelector')),
      silenced: false,
      bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
      timers: [],
    };
    if (from !== null && from !== '' && from !== '0') {
      const version = Number(from);
      if (!Number.isFinite(version) || version < compactedAt) {
        const message = `too old resource version: ${from} (${compactedAt + 1})`;
        const object = {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message,
          reason: 'Expired',
          code: 410,
        };
        res.end(`${JSON.stringify({ type: 'ERROR', object })}\n`);
        return;
      }
      for (const entry of history) if (entry.rv > version) send(watch, entry.type, entry.pod);
    } else {
      for (const pod of pods.values()) send(watch, 'ADDED', pod);
    }
    watches.add(watch);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    if (timeout > 0) {
      watch.timers.push(
        setTimeout(() => {
          endWatch(watch);
          res.end();
        }, timeout * 1000),
      );
    }
    if (watch.bookmarks && options.bookmarkIntervalMs) {
      const tick = () => {
        bookmark(watch);
        watch.timers.push(setTimeout(tick, options.bookmarkIntervalMs));
      };
      watch.timers.push(setTimeout(tick, options.bookmarkIntervalMs));
    }
    req.on('close', () => endWatch(watch));
  };

  const readJson = (req: IncomingMessage) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
      req.on('error', reject);
    });

  const handleLease = async (
    req: IncomingMessage,
    res: ServerResponse,
    ns: string,
    name: string | undefined,
  ) => {
    counts.lease++;
    if (req.method === 'GET' && name) {
      const lease = leases.get(key(ns, name));
      if (!lease) return status(res, 404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
      return json(res, 200, lease);
    }
    const body = (await readJson(req).catch(() => null)) as Partial<Lease> | null;
    if (!body?.metadata?.name) return status(res, 400, 'BadRequest', 'lease body without metadata.name');
    const k = key(ns, body.metadata.name);
    if (req.method === 'POST' && !name) {
      if (leases.has(k))
        return status(res, 409, 'AlreadyExists', `leases "${body.metadata.name}" already exists`);
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: body.metadata.name,
          namespace: ns,
          uid: randomUUID(),
          resourceVersion: String(++rv),
        },
        spec: (body.spec ?? {}) as Record<string, unknown>,
      };
      leases.set(k, lease);
      return json(res, 201, lease);
    }
    if (req.method === 'PUT' && name === body.metadata.name) {
      const current = leases.get(k);
      if (!current) return status(res, 404, 'NotFound', `leases "${name}" not found`);
      if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
        return status(
          res,
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version',
        );
      }
      const lease: Lease = {
        ...current,
        metadata: { ...current.metadata, resourceVersion: String(++rv) },
        spec: (body.spec ?? {}) as Record<string, unknown>,
      };
      leases.set(k, lease);
      return json(res, 200, lease);
    }
    return status(res, 405, 'MethodNotAllowed', `${req.method} not supported here`);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (down) return status(res, 503, 'ServiceUnavailable', 'the fake API server is down');
    if (hung) {
      held.add(res);
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      counts.unauthorized++;
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const path = url.pathname;
    const podsAll = path === '/api/v1/pods';
    const podsNs = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path);
    if ((podsAll || podsNs) && req.method === 'GET') {
      const namespace = podsNs ? decodeURIComponent(podsNs[1]!) : undefined;
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        return watchPods(req, res, url, namespace);
      }
      if (listGate) {
        void listGate.then(() => listPods(res, url, namespace));
        return;
      }
      return listPods(res, url, namespace);
    }
    const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
    if (lease) {
      void handleLease(
        req,
        res,
        decodeURIComponent(lease[1]!),
        lease[2] ? decodeURIComponent(lease[2]) : undefined,
      );
      return;
    }
    status(res, 404, 'NotFound', `no route for ${req.method} ${path}`);
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

/** `a=b,c!=d,e,!f` (equality-based selectors; enough for the watcher's tests). */
function parseSelector(text: string | null): Selector {
  if (!text) return () => true;
  const terms = text.split(',').map((t) => t.trim());
  return (labels) =>
    terms.every((term) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return labels?.[ne[1]!] !== ne[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return labels?.[eq[1]!] === eq[2];
      if (term.startsWith('!')) return labels?.[term.slice(1)] === undefined;
      return labels?.[term] !== undefined;
    });
}
