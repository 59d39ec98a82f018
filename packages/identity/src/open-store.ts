// The one way every command and service opens the identity store: from store options
// (no URL and no seeds: the embedded in-memory store; a redis:// or rediss:// URL: one
// server, or Redis Cluster for redis+cluster:// and several hosts; seed nodes: Redis
// Cluster) to an IdentityStore. Options are checked before anything is contacted
// (`invalid_store_options`, `invalid_cluster_name`); a store that cannot be reached is
// `store_unreachable`, with the address and why: refused, timed out, authentication, TLS.
import net from 'node:net';
import { errorMessage } from '@podgate/errors';
// Only the package's public exports, on purpose: the stores' internals may change freely
// under this file. (index.ts re-exports this module; nothing here runs at load time, so
// the cycle is harmless.)
import {
  assertClusterName,
  createRedisIdentityStore,
  DEFAULT_KEY_PREFIX,
  IdentityError,
  type IdentityStore,
  MemoryIdentityStore,
  parseRedisUrl,
  type RedisEndpoint,
} from './index.js';

export interface StoreOptions {
  /** `redis://[user:password@]host:port[/db]`, `rediss://` (TLS), `redis+cluster://h1:p1,h2:p2`. */
  url?: string;
  /** Redis Cluster seed nodes (instead of, or overriding the hosts of, `url`). */
  clusterNodes?: RedisEndpoint[];
  /** Scopes every key (default `podgate:`). */
  keyPrefix?: string;
  /** Deadline of one lookup (default 200 ms). */
  lookupTimeoutMs?: number;
  /** The clusters this reader consults: their heartbeats are read from the start. */
  clusters?: readonly string[];
  /** How long opening may take, connection and handshake included. Default 10,000. */
  connectTimeoutMs?: number;
  /** Connection errors after the store is open (lookups never throw; writes do). */
  onError?: (err: unknown) => void;
}

export type StoreKind = 'memory' | 'redis' | 'redis-cluster';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long a seed node gets to answer a TCP probe when explaining a failed cluster connect. */
const PROBE_TIMEOUT_MS = 1_000;
const PROBED_SEEDS = 3;

export function storeKind(options: StoreOptions): StoreKind {
  if (options.clusterNodes !== undefined) return 'redis-cluster';
  if (options.url === undefined) return 'memory';
  return parseRedisUrl(options.url).mode === 'cluster' ? 'redis-cluster' : 'redis';
}

/** Where the store is, for logs and messages; never the password. */
export function describeStore(options: StoreOptions): string {
  const kind = storeKind(options);
  if (kind === 'memory') return 'the embedded in-memory store';
  const nodes = storeNodes(options);
  if (kind === 'redis') return `Redis at ${hostPort(nodes[0]!)}`;
  return `Redis Cluster (seeds ${nodes.map(hostPort).join(', ')})`;
}

export async function openStore(options: StoreOptions): Promise<IdentityStore> {
  const kind = storeKind(options);
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (prefix === '' || /[{}]/.test(prefix)) {
    throw new IdentityError('invalid_store_options', 'the key prefix must be non-empty, without { or }');
  }
  for (const cluster of options.clusters ?? []) assertClusterName(cluster);
  if (kind === 'memory') return new MemoryIdentityStore();
  if (options.clusterNodes?.length === 0) {
    throw new IdentityError('invalid_store_options', 'no Redis Cluster seed nodes');
  }

  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let lastError: unknown;
  const opening = createRedisIdentityStore({
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.clusterNodes !== undefined ? { clusterNodes: options.clusterNodes } : {}),
    keyPrefix: prefix,
    ...(options.lookupTimeoutMs !== undefined ? { lookupTimeoutMs: options.lookupTimeoutMs } : {}),
    ...(options.clusters !== undefined ? { clusters: options.clusters } : {}),
    redisOptions: { connectTimeout: timeoutMs },
    onError: (err) => {
      lastError = err;
      options.onError?.(err);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const opened = await Promise.race([opening, deadline]);
    if (opened !== 'timeout') return opened;
    // Still trying: close it if it ever opens; its failure is already reported here.
    opening.then(
      (store) => store.close(),
      () => {},
    );
    throw unreachable(options, kind, `timed out after ${timeoutMs} ms${isTls(options) ? TLS_HINT : ''}`);
  } catch (error) {
    // Refusals of the options themselves carry no cause; connection failures do.
    if (!(error instanceof IdentityError) || error.cause === undefined) throw error;
    const why =
      kind === 'redis-cluster'
        ? await explainCluster(options, lastError)
        : explain(lastError ?? error.cause, isTls(options));
    throw unreachable(options, kind, why, error.cause);
  } finally {
    clearTimeout(timer);
  }
}

const TLS_HINT = ' (no TLS handshake: is the server speaking TLS on that port?)';

function unreachable(options: StoreOptions, kind: StoreKind, why: string, cause?: unknown): IdentityError {
  const where =
    kind === 'redis'
      ? `Redis at ${hostPort(storeNodes(options)[0]!)}`
      : `Redis Cluster (seeds ${storeNodes(options).map(hostPort).join(', ')})`;
  return new IdentityError('store_unreachable', `cannot connect to ${where}: ${why}`, { cause });
}

function storeNodes(options: StoreOptions): RedisEndpoint[] {
  return options.clusterNodes ?? (options.url !== undefined ? parseRedisUrl(options.url).nodes : []);
}

function isTls(options: StoreOptions): boolean {
  return options.url !== undefined && parseRedisUrl(options.url).tls;
}

function hostPort({ host, port }: RedisEndpoint): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const TLS_CODES =
  /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/;

/** The reason a connection failed, in words an operator can act on. */
function explain(err: unknown, tls: boolean): string {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const message = errorMessage(err);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ETIMEDOUT':
      return `timed out${tls ? TLS_HINT : ''}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found (DNS)';
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection reset${tls ? TLS_HINT : ''}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
  }
  if (message.startsWith('NOAUTH')) return 'authentication required (NOAUTH): give user:password@ in the URL';
  if (message.startsWith('WRONGPASS')) return 'authentication failed (WRONGPASS): wrong user or password';
  if (TLS_CODES.test(code)) return `TLS failed: ${code}: ${message}`;
  return message;
}

/** A failed cluster connect says little ("Connection is closed."): ask the seeds themselves. */
async function explainCluster(options: StoreOptions, lastError: unknown): Promise<string> {
  const nodeError = (lastError as { lastNodeError?: unknown } | null)?.lastNodeError;
  const told = nodeError === undefined ? '' : explain(nodeError, isTls(options));
  if (told !== '' && !/connection is closed/i.test(told)) return told;
  const seeds = storeNodes(options).slice(0, PROBED_SEEDS);
  const probes = await Promise.all(seeds.map(async (seed) => `${hostPort(seed)} ${await probe(seed)}`));
  return probes.join('; ');
}

function probe(seed: RedisEndpoint): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: seed.host, port: seed.port });
    const done = (why: string) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done('timed out'));
    socket.once('connect', () => done('accepts connections, but the cluster handshake failed'));
    socket.once('error', (error) => done(explain(error, false)));
  });
}
