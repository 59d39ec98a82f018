// One HTTP request to the API server with the credentials and TLS settings of a
// KubeAccess, over plain node:http(s).
import type http from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WatcherError } from '../errors.js';
import type { KubeAccess } from './kube-access.js';

export interface KubeHttp {
  request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    params: URLSearchParams | null,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage>;
}

export function createKubeHttp(access: KubeAccess): KubeHttp {
  return {
    async request(method, path, params, body, signal) {
      const options = await access.requestOptions();
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      const payload = body === undefined ? undefined : JSON.stringify(body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const url = new URL(`${access.server}${path}${params ? `?${params}` : ''}`);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      if (signal?.aborted) throw new WatcherError('API_NETWORK', 'request aborted');
      return new Promise<http.IncomingMessage>((resolve, reject) => {
        // Not http.request's own `signal` option: its AbortError can surface unhandled
        // when the abort comes from inside a 'data' handler of the response.
        const req = send(url, { method, headers, agent: options.agent }, (res) => {
          // Callers attach their listeners a tick later; an abort in between must not
          // surface as an unhandled 'error' (they check res.destroyed instead).
          res.on('error', () => {});
          res.once('close', () => signal?.removeEventListener('abort', abort));
          resolve(res);
        });
        // destroy() without an error: with one, a keep-alive socket already handed back
        // to the agent would emit it with nobody listening. Readers of a cut-off
        // response see 'close' without 'end'.
        const abort = () => {
          reject(new WatcherError('API_NETWORK', 'request aborted'));
          req.destroy();
        };
        signal?.addEventListener('abort', abort, { once: true });
        req.on('error', (error) => {
          signal?.removeEventListener('abort', abort);
          reject(networkError(error));
        });
        req.end(payload);
      });
    },
  };
}

export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    if (res.destroyed && !res.complete)
      return reject(new WatcherError('API_NETWORK', 'connection closed early'));
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (error) => reject(networkError(error)));
    res.on('close', () => {
      if (!res.complete) reject(new WatcherError('API_NETWORK', 'connection closed before the reply ended'));
    });
  });
}

/** A non-success reply as a typed error, with the Status message when there is one. */
export function statusError(statusCode: number, body: string): WatcherError {
  let message = body.slice(0, 300);
  try {
    const status = JSON.parse(body) as { message?: string };
    if (typeof status.message === 'string') message = status.message;
  } catch {
    // not a Status object; keep the raw text
  }
  const code =
    statusCode === 410
      ? 'API_GONE'
      : statusCode === 401 || statusCode === 403
        ? 'API_UNAUTHORIZED'
        : 'API_HTTP';
  return new WatcherError(code, `API server answered ${statusCode}: ${message}`, { statusCode });
}

export function networkError(error: Error): WatcherError {
  if (error instanceof WatcherError) return error;
  return new WatcherError('API_NETWORK', `API server unreachable: ${error.message}`, { cause: error });
}
