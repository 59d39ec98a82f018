// The two calls the watcher makes to the Kubernetes API: list pods (one page) and watch
// pods (a stream of JSON lines). Plain node:http(s) requests (see kube-access.ts for the
// credentials), so that pages become slim records at once, bookmarks can be asked for and
// a silent watch can be aborted (client-node 1.4.0's informer does neither: it stops on any error but 410, and has no idle timeout).
import { errorMessage } from '@podgate/errors';
import { WatcherError } from '../errors.js';
import type { KubeAccess } from './kube-access.js';
import { createKubeHttp, LineSplitter, networkError, readBody, statusError } from './kube-http.js';

/** A pod event is a few KB; a 16 MiB line is an API server gone wrong, or not an API server. */
const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;
const WATCH_EVENT_TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export interface PodQuery {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
}

export interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continueToken: string | undefined;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface WatchHandlers {
  /** The server accepted the watch (HTTP 200). */
  onOpen(): void;
  onEvent(event: WatchEvent): void;
}

export interface KubeApi {
  listPods(
    query: PodQuery & { limit: number; continueToken?: string },
    signal: AbortSignal,
  ): Promise<ListPage>;
  /** Resolves when the server ends the stream cleanly; rejects on errors and on abort. */
  watchPods(
    query: PodQuery & { resourceVersion: string; timeoutSeconds: number },
    handlers: WatchHandlers,
    signal: AbortSignal,
  ): Promise<void>;
}

export function createKubeApi(access: KubeAccess): KubeApi {
  const http = createKubeHttp(access);
  const open = (path: string, params: URLSearchParams, signal: AbortSignal) =>
    http.request('GET', path, params, undefined, signal);

  return {
    async listPods(query, signal) {
      const params = baseParams(query);
      params.set('limit', String(query.limit));
      if (query.continueToken) params.set('continue', query.continueToken);
      const res = await open(podsPath(query.namespace), params, signal);
      const body = await readBody(res);
      if (res.statusCode !== 200) throw statusError(res.statusCode ?? 0, body);
      let list: { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] };
      try {
        list = JSON.parse(body);
      } catch (error) {
        throw new WatcherError('kube_api_protocol', 'pod list is not JSON', { cause: error });
      }
      if (!Array.isArray(list.items) || typeof list.metadata?.resourceVersion !== 'string') {
        throw new WatcherError('kube_api_protocol', 'pod list without items or metadata.resourceVersion');
      }
      return {
        items: list.items,
        resourceVersion: list.metadata.resourceVersion,
        continueToken: list.metadata.continue || undefined,
      };
    },

    async watchPods(query, handlers, signal) {
      const params = baseParams(query);
      params.set('watch', 'true');
      params.set('resourceVersion', query.resourceVersion);
      params.set('allowWatchBookmarks', 'true');
      params.set('timeoutSeconds', String(query.timeoutSeconds));
      const res = await open(podsPath(query.namespace), params, signal);
      if (res.statusCode !== 200) throw statusError(res.statusCode ?? 0, await readBody(res));
      handlers.onOpen();
      await new Promise<void>((resolve, reject) => {
        if (res.destroyed && !res.complete)
          return reject(new WatcherError('kube_api_network', 'watch connection dropped'));
        // Watch lines are untrusted: bounded in size, parsed, and checked for shape before
        // the sync loop sees them. Anything odd drops the stream; the source restarts it.
        const lines = new LineSplitter(MAX_WATCH_LINE_BYTES);
        const fail = (error: WatcherError) => {
          res.destroy();
          reject(error);
        };
        res.on('data', (chunk: Buffer) => {
          try {
            for (const raw of lines.push(chunk)) {
              const line = raw.trim();
              if (line !== '') handlers.onEvent(parseWatchEvent(line));
            }
          } catch (error) {
            fail(
              error instanceof WatcherError
                ? error
                : new WatcherError(
                    'kube_api_protocol',
                    `watch event could not be handled: ${errorMessage(error)}`,
                    {
                      cause: error,
                    },
                  ),
            );
          }
        });
        res.on('end', () => resolve());
        res.on('error', (error) => reject(networkError(error)));
        // A socket destroyed mid-stream ends with 'aborted'/'close' and no 'end'.
        res.on('close', () => {
          if (!res.complete) reject(new WatcherError('kube_api_network', 'watch connection dropped'));
        });
      });
    },
  };
}

/** One watch line to an event, or an API_PROTOCOL error naming what is wrong with it. */
export function parseWatchEvent(line: string): WatchEvent {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch (error) {
    throw new WatcherError('kube_api_protocol', 'watch sent a line that is not JSON', { cause: error });
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new WatcherError('kube_api_protocol', 'watch sent a line that is not an event object');
  }
  const { type, object } = event as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !WATCH_EVENT_TYPES.has(type)) {
    throw new WatcherError(
      'kube_api_protocol',
      `watch sent an event of unknown type ${JSON.stringify(type)?.slice(0, 40)}`,
    );
  }
  return { type: type as WatchEvent['type'], object };
}

function podsPath(namespace: string | undefined): string {
  return namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods` : '/api/v1/pods';
}

function baseParams(query: PodQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.labelSelector) params.set('labelSelector', query.labelSelector);
  return params;
}
