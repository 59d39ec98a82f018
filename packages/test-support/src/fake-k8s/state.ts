// The fake API's state, shared by its pod, watch and Lease handlers.
import type { ServerResponse } from 'node:http';
import type { FakeK8sApi, FakeK8sApiOptions, FakePod, Lease, Selector } from './types.js';

export interface WatchClient {
  res: ServerResponse;
  namespace: string | undefined;
  selector: Selector;
  silenced: boolean;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
}

export interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: FakePod;
}

export interface ListSnapshot {
  items: FakePod[];
  rv: number;
  offset: number;
}

export interface FakeState {
  readonly options: FakeK8sApiOptions;
  readonly historyLimit: number;
  readonly pods: Map<string, FakePod>;
  readonly leases: Map<string, Lease>;
  readonly watches: Set<WatchClient>;
  /** Continue tokens of paginated lists, each a consistent snapshot. */
  readonly snapshots: Map<string, ListSnapshot>;
  history: HistoryEntry[];
  /** Versions at or below this are no longer covered by the history. */
  compactedAt: number;
  rv: number;
  hostileList: ((res: ServerResponse) => void) | null;
  readonly counts: FakeK8sApi['counts'];
  readonly watchedFrom: (string | null)[];
}

export function createState(options: FakeK8sApiOptions): FakeState {
  return {
    options,
    historyLimit: options.historyLimit ?? 10_000,
    pods: new Map(),
    leases: new Map(),
    watches: new Set(),
    snapshots: new Map(),
    history: [],
    compactedAt: 0,
    rv: 1000,
    hostileList: null,
    counts: { list: 0, watch: 0, lease: 0, unauthorized: 0 },
    watchedFrom: [],
  };
}

export const objectKey = (ns: string, name: string) => `${ns}/${name}`;

/** Keeps `pod`'s event in the bounded history and sends it to every matching watch. */
export function recordEvent(state: FakeState, type: HistoryEntry['type'], pod: FakePod): void {
  state.history.push({ rv: Number(pod.metadata.resourceVersion), type, pod });
  if (state.history.length > state.historyLimit) {
    const dropped = state.history.splice(0, state.history.length - state.historyLimit);
    state.compactedAt = dropped[dropped.length - 1]!.rv;
  }
  for (const watch of state.watches) sendEvent(watch, type, pod);
}

export function sendEvent(watch: WatchClient, type: string, pod: FakePod): void {
  if (watch.silenced) return;
  if (watch.namespace && pod.metadata.namespace !== watch.namespace) return;
  if (!watch.selector(pod.metadata.labels)) return;
  watch.res.write(`${JSON.stringify({ type, object: pod })}\n`);
}

export function sendBookmark(state: FakeState, watch: WatchClient): void {
  if (watch.silenced || !watch.bookmarks) return;
  const object = { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(state.rv) } };
  watch.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
}

export function endWatch(state: FakeState, watch: WatchClient): void {
  for (const t of watch.timers) clearTimeout(t);
  state.watches.delete(watch);
}
