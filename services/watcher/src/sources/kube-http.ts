// One HTTP request to the API server with the kubeconfig's credentials and TLS settings
// (@kubernetes/client-node's KubeConfig.applyToFetchOptions), over plain node:http(s).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { WatcherError } from '../errors.js';

export interface KubeHttp {
  request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    params: URLSearchParams | null,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage>;
}

export function createKubeHttp(kc: KubeConfig): KubeHttp {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new WatcherError('KUBECONFIG_INVALID', 'kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  return {
    async request(method, path, params, body, signal) {
      // Per request: token files and exec plugins may rotate credentials.
      const options = await kc.applyToFetchOptions({});
      const headers: Record<string, string> = { accept: 'application/json' };
      // node-fetch Headers: iterate, whatever the declared union type says.
      const given = options.headers as unknown as { forEach(fn: (value: string, key: string) => void): void };
      given?.forEach((value, key) => {
        headers[key] = value;
      });
      const payload = body === undefined ? undefined : JSON.stringify(body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const url = new URL(`${server}${path}${params ? `?${params}` : ''}`);
      const send = url.protocol === 'https:' ? https.request : http.request;
      return new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = send(url, { method, headers, agent: options.agent as http.Agent, signal }, resolve);
        req.on('error', (error) => reject(networkError(error)));
        req.end(payload);
      });
    },
  };
}

export function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (error) => reject(networkError(error)));
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
