// GET pods: a list (paginated over a consistent snapshot, 410 for an expired continue
// token) or a watch (JSON lines from a resourceVersion, 410 when it is older than the
// history, bookmarks and timeoutSeconds on request).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, sendStatus } from './respond.js';
import { parseSelector } from './selector.js';
import {
  endWatch,
  type FakeState,
  type ListSnapshot,
  sendBookmark,
  sendEvent,
  type WatchClient,
} from './state.js';

export function listPods(
  state: FakeState,
  res: ServerResponse,
  url: URL,
  namespace: string | undefined,
): void {
  state.counts.list++;
  if (state.hostileList) {
    state.hostileList(res);
    return;
  }
  const limit = Number(url.searchParams.get('limit') ?? 0);
  const token = url.searchParams.get('continue');
  let snapshot: ListSnapshot;
  if (token) {
    const found = state.snapshots.get(token);
    if (!found || found.rv < state.compactedAt) {
      state.snapshots.delete(token);
      sendStatus(res, 410, 'Expired', 'The provided continue parameter is too old.');
      return;
    }
    state.snapshots.delete(token);
    snapshot = found;
  } else {
    const selector = parseSelector(url.searchParams.get('labelSelector'));
    const items = [...state.pods.values()].filter(
      (p) => (!namespace || p.metadata.namespace === namespace) && selector(p.metadata.labels),
    );
    snapshot = { items, rv: state.rv, offset: 0 };
  }
  const end = limit > 0 ? Math.min(snapshot.offset + limit, snapshot.items.length) : snapshot.items.length;
  const page = snapshot.items.slice(snapshot.offset, end);
  let next: string | undefined;
  if (end < snapshot.items.length) {
    next = randomUUID();
    state.snapshots.set(next, { ...snapshot, offset: end });
  }
  sendJson(res, 200, {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: String(snapshot.rv), ...(next ? { continue: next } : {}) },
    items: page,
  });
}

export function watchPods(
  state: FakeState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  namespace: string | undefined,
): void {
  state.counts.watch++;
  const from = url.searchParams.get('resourceVersion');
  state.watchedFrom.push(from);
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
    if (!Number.isFinite(version) || version < state.compactedAt) {
      const message = `too old resource version: ${from} (${state.compactedAt + 1})`;
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
    for (const entry of state.history) if (entry.rv > version) sendEvent(watch, entry.type, entry.pod);
  } else {
    for (const pod of state.pods.values()) sendEvent(watch, 'ADDED', pod);
  }
  state.watches.add(watch);
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
  if (timeout > 0) {
    watch.timers.push(
      setTimeout(() => {
        endWatch(state, watch);
        res.end();
      }, timeout * 1000),
    );
  }
  const bookmarkIntervalMs = state.options.bookmarkIntervalMs;
  if (watch.bookmarks && bookmarkIntervalMs) {
    const tick = () => {
      sendBookmark(state, watch);
      watch.timers.push(setTimeout(tick, bookmarkIntervalMs));
    };
    watch.timers.push(setTimeout(tick, bookmarkIntervalMs));
  }
  req.on('close', () => endWatch(state, watch));
}
