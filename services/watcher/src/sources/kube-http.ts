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
      if (signal?.aborted) throw new WatcherError('kube_api_network', 'request aborted');
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
          reject(new WatcherError('kube_api_network', 'request aborted'));
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

/**
 * A list page of 500 pods is about 10 MB of JSON (managedFields included); anything far
 * larger is not a page and would only exhaust the heap.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The whole body as text; a body over `maxBytes` drops the connection with API_PROTOCOL. */
export function readBody(res: http.IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    if (res.destroyed && !res.complete)
      return reject(new WatcherError('kube_api_network', 'connection closed early'));
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        reject(
          new WatcherError('kube_api_protocol', `API server reply exceeds ${maxBytes} bytes; dropped it`),
        );
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (error) => reject(networkError(error)));
    res.on('close', () => {
      if (!res.complete)
        reject(new WatcherError('kube_api_network', 'connection closed before the reply ended'));
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
      ? 'kube_api_gone'
      : statusCode === 401 || statusCode === 403
        ? 'kube_api_unauthorized'
        : 'kube_api_http';
  return new WatcherError(code, `API server answered ${statusCode}: ${message}`, { statusCode });
}

export function networkError(error: Error): WatcherError {
  if (error instanceof WatcherError) return error;
  return new WatcherError('kube_api_network', `API server unreachable: ${error.message}`, { cause: error });
}

/**
 * Splits a stream into lines with a bound on each: a server that never sends a newline must
 * not grow a buffer without end. `push` returns the complete lines; it throws API_PROTOCOL
 * once the unfinished line is longer than `maxLineBytes` (the caller drops the connection).
 */
export class LineSplitter {
  private readonly parts: Buffer[] = [];
  private pending = 0;

  constructor(readonly maxLineBytes: number = MAX_BODY_BYTES) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      this.parts.push(chunk.subarray(from, nl));
      this.pending += nl - from;
      this.check();
      // Decoded per whole line: a multi-byte character split across chunks stays intact.
      lines.push(Buffer.concat(this.parts, this.pending).toString('utf8'));
      this.parts.length = 0;
      this.pending = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      this.parts.push(chunk.subarray(from));
      this.pending += chunk.length - from;
      this.check();
    }
    return lines;
  }

  private check(): void {
    if (this.pending > this.maxLineBytes) {
      this.parts.length = 0;
      this.pending = 0;
      throw new WatcherError('kube_api_protocol', `watch sent a line longer than ${this.maxLineBytes} bytes`);
    }
  }
}
