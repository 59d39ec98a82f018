// How to reach the API server: its address, and the headers and TLS agent of one request.
//
// Two implementations. The native one reads the in-cluster service account or a
// kubeconfig with token / client-certificate / basic credentials. Everything else
// (exec plugins, auth-provider, proxy-url) goes through @kubernetes/client-node's
// KubeConfig, loaded only then: importing that library costs about 90 MB of resident
// memory (its generated API models), a third of the watcher's 300 MB budget at 100k pods.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
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
  /** For tests: the kubeconfig used when no other is given (default ~/.kube/config). */
  homeKubeconfig?: string;
}

/** The access options a watcher configuration names (KUBECONFIG may list several files: the first one counts). */
export function kubeAccessOptions(config: {
  kubeconfig?: string | undefined;
  kubernetesServiceHost?: string | undefined;
  kubernetesServicePort: string;
}): LoadKubeAccessOptions {
  const kubeconfigPath = config.kubeconfig?.split(delimiter).find((p) => p !== '');
  const host = config.kubernetesServiceHost;
  return {
    kubeconfigPath,
    inCluster: !kubeconfigPath && host ? { host, port: config.kubernetesServicePort } : undefined,
  };
}

/** Where the Kubernetes API access comes from, in the order the watcher looks. */
export type KubeAccessSource =
  | { kind: 'kubeconfig'; path: string }
  | { kind: 'in-cluster'; host: string; port: string };

/**
 * Which access `loadKubeAccess` would use, without reading it: the kubeconfig given
 * (--kubeconfig or KUBECONFIG), else the in-cluster service account (KUBERNETES_SERVICE_HOST),
 * else ~/.kube/config. None of them is `no_pod_source`, naming what was looked for: without
 * this, @kubernetes/client-node falls back to http://localhost:8080 and its refusal of plain
 * HTTP is retried for ever.
 */
export function locateKubeAccess(options: LoadKubeAccessOptions): KubeAccessSource {
  if (options.kubeconfigPath) return { kind: 'kubeconfig', path: options.kubeconfigPath };
  if (options.inCluster) return { kind: 'in-cluster', ...options.inCluster };
  const home = options.homeKubeconfig ?? join(homedir(), '.kube', 'config');
  if (existsSync(home)) return { kind: 'kubeconfig', path: home };
  throw new WatcherError(
    'no_pod_source',
    `no pod source: give --pods-file FILE, or access to a Kubernetes API. Looked for: in-cluster service account (KUBERNETES_SERVICE_HOST is not set), KUBECONFIG (not set), --kubeconfig (not given), ${home} (not found)`,
  );
}

export async function loadKubeAccess(options: LoadKubeAccessOptions): Promise<KubeAccess> {
  const source = locateKubeAccess(options);
  try {
    if (source.kind === 'kubeconfig') return await fromKubeconfigFile(source.path);
    return inCluster(source, options.serviceAccountDir ?? SERVICE_ACCOUNT);
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
  // The library refuses it on every request, which the watch would retry for ever: say it once.
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    throw new WatcherError(
      'invalid_kubeconfig',
      `cluster ${cluster.name}: http:// server ${cluster.server} without insecure-skip-tls-verify`,
    );
  }
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
