// How to reach the API server: its address, and the headers and TLS agent of one request.
//
// Two implementations. The native one reads the in-cluster service account or a
// kubeconfig with token / client-certificate / basic credentials. Everything else
// (exec plugins, auth-provider, proxy-url) goes through @kubernetes/client-node's
// KubeConfig, loaded only then: importing that library costs about 90 MB of resident
// memory (its generated API models), a third of the watcher's 300 MB budget at 100k pods.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '@podgate/errors';
import { parse } from 'yaml';
import { WatcherError } from '../errors.js';

export interface KubeAccess {
  /** `https://host:port` (no trailing slash). */
  server: string;
  /** Per request: service-account tokens rotate, exec plugins refresh. */
  requestOptions(): Promise<{ headers: Record<string, string>; agent: http.Agent }>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound service-account tokens are rotated by the kubelet; re-read this often. */
const TOKEN_REREAD_MS = 60_000;

export interface LoadKubeAccessOptions {
  /** A kubeconfig file (flag or the first file of KUBECONFIG). */
  kubeconfigPath?: string | undefined;
  /** In-cluster: KUBERNETES_SERVICE_HOST/PORT from the entry point's environment. */
  inCluster?: { host: string; port: string } | undefined;
  /** For tests: where the service account files are. */
  serviceAccountDir?: string;
}

export async function loadKubeAccess(options: LoadKubeAccessOptions): Promise<KubeAccess> {
  try {
    if (options.kubeconfigPath) return await fromKubeconfigFile(options.kubeconfigPath);
    if (options.inCluster) return inCluster(options.inCluster, options.serviceAccountDir ?? SERVICE_ACCOUNT);
    // ~/.kube/config and friends: let the library find it.
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return kubeAccessFromKubeConfig(kc);
  } catch (error) {
    if (error instanceof WatcherError) throw error;
    throw new WatcherError('invalid_kubeconfig', `cannot load kubeconfig: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/** Any KubeConfig @kubernetes/client-node can load (exec plugins, OIDC, proxies...). */
export function kubeAccessFromKubeConfig(kc: KubeConfig): KubeAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new WatcherError('invalid_kubeconfig', 'kubeconfig has no current cluster');
  return {
    server: cluster.server.replace(/\/+$/, ''),
    async requestOptions() {
      const options = await kc.applyToFetchOptions({});
      const headers: Record<string, string> = {};
      // node-fetch Headers: iterate, whatever the declared union type says.
      const given = options.headers as unknown as { forEach(fn: (value: string, key: string) => void): void };
      given?.forEach((value, key) => {
        headers[key] = value;
      });
      return { headers, agent: options.agent as http.Agent };
    },
  };
}

function inCluster(env: { host: string; port: string }, dir: string): KubeAccess {
  const host = env.host.includes(':') ? `[${env.host}]` : env.host;
  const agent = new https.Agent({ ca: readFileSync(join(dir, 'ca.crt')), keepAlive: true });
  return {
    server: `https://${host}:${env.port}`,
    requestOptions: tokenOptions(() => readFileSync(join(dir, 'token'), 'utf8').trim(), agent),
  };
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string } }>;
  clusters?: Array<{ name: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
}

async function fromKubeconfigFile(path: string): Promise<KubeAccess> {
  const doc = parse(readFileSync(path, 'utf8')) as KubeconfigFile | null;
  const contextName = doc?.['current-context'];
  const context = doc?.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = doc?.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = doc?.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') {
    throw new WatcherError(
      'invalid_kubeconfig',
      `${path}: no cluster for current-context ${JSON.stringify(contextName)}`,
    );
  }
  if (user.exec || user['auth-provider'] || cluster['proxy-url']) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return kubeAccessFromKubeConfig(kc);
  }
  const base = dirname(path);
  const bytes = (data: unknown, file: unknown): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof file === 'string') return readFileSync(isAbsolute(file) ? file : join(base, file));
    return undefined;
  };
  const server = cluster.server.replace(/\/+$/, '');
  const skipVerify = cluster['insecure-skip-tls-verify'] === true;
  let agent: http.Agent;
  if (server.startsWith('http:')) {
    // Same rule as @kubernetes/client-node: plain HTTP only when explicitly insecure.
    if (!skipVerify) {
      throw new WatcherError(
        'invalid_kubeconfig',
        `${path}: http:// server without insecure-skip-tls-verify`,
      );
    }
    agent = new http.Agent({ keepAlive: true });
  } else {
    const ca = bytes(cluster['certificate-authority-data'], cluster['certificate-authority']);
    const cert = bytes(user['client-certificate-data'], user['client-certificate']);
    const key = bytes(user['client-key-data'], user['client-key']);
    const servername = cluster['tls-server-name'];
    agent = new https.Agent({
      keepAlive: true,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(skipVerify ? { rejectUnauthorized: false } : {}),
      ...(typeof servername === 'string' ? { servername } : {}),
    });
  }
  if (typeof user.token === 'string') {
    const token = user.token;
    return { server, requestOptions: tokenOptions(() => token, agent) };
  }
  if (typeof user.tokenFile === 'string') {
    const file = user.tokenFile;
    return { server, requestOptions: tokenOptions(() => readFileSync(file, 'utf8').trim(), agent) };
  }
  const headers: Record<string, string> = {};
  if (typeof user.username === 'string') {
    headers.authorization = `Basic ${Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64')}`;
  }
  return { server, requestOptions: async () => ({ headers: { ...headers }, agent }) };
}

function tokenOptions(read: () => string, agent: http.Agent): KubeAccess['requestOptions'] {
  let token = '';
  let readAt = Number.NEGATIVE_INFINITY;
  return async () => {
    const now = Date.now();
    if (now - readAt > TOKEN_REREAD_MS) {
      token = read();
      readAt = now;
    }
    return { headers: { authorization: `Bearer ${token}` }, agent };
  };
}
