// The one way every command and service opens the identity store: from store options
// (no URL and no seeds: the embedded in-memory store; a redis:// or rediss:// URL: one
// server, or Redis Cluster for redis+cluster:// and several hosts; seed nodes: Redis
// Cluster) to an IdentityStore. Options are checked before anything is contacted
// (`invalid_store_options`, `invalid_cluster_name`); a store that cannot be reached is
// `store_unavailable`, with the address and why (refused, timed out, authentication, TLS),
// within one deadline.
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
  /**
   * One Redis server: lookups go out as soon as this many wait, rather than all at the end of
   * the event loop's turn (default). For a server that answers each request after its lookup.
   */
  lookupFlushAfter?: number;
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
  const opening = createRedisIdentityStore({
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.clusterNodes !== undefined ? { clusterNodes: options.clusterNodes } : {}),
    keyPrefix: prefix,
    ...(options.lookupTimeoutMs !== undefined ? { lookupTimeoutMs: options.lookupTimeoutMs } : {}),
    ...(options.clusters !== undefined ? { clusters: options.clusters } : {}),
    ...(options.lookupFlushAfter !== undefined ? { lookupFlushAfter: options.lookupFlushAfter } : {}),
    redisOptions: { connectTimeout: timeoutMs },
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  // A server that accepts connections and never answers would keep ioredis retrying its
  // ready check well past any connect timeout: opening has one deadline of its own.
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const opened = await Promise.race([opening, deadline]);
    if (opened !== 'timeout') return opened;
    // Still trying: close it if it ever opens; its failure is reported here already.
    opening.then(
      (store) => store.close(),
      () => {},
    );
    const hint = isTls(options) ? ' (no TLS handshake: is the server speaking TLS on that port?)' : '';
    throw new IdentityError(
      'store_unavailable',
      `cannot connect to Redis at ${storeNodes(options).map(hostPort).join(',')}: timed out after ${timeoutMs} ms${hint}`,
    );
  } catch (error) {
    // Redis Cluster's own error says little ("Failed to refresh slots cache."): ask the seeds.
    if (kind !== 'redis-cluster' || !(error instanceof IdentityError) || error.code !== 'store_unavailable')
      throw error;
    const seeds = storeNodes(options).slice(0, PROBED_SEEDS);
    const probes = await Promise.all(seeds.map(async (seed) => `${hostPort(seed)} ${await probe(seed)}`));
    throw new IdentityError('store_unavailable', `${error.message} (seeds: ${probes.join('; ')})`, {
      cause: error.cause,
    });
  } finally {
    clearTimeout(timer);
  }
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

/** Whether a seed takes TCP connections at all: refused, timed out, or it does. */
function probe(seed: RedisEndpoint): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: seed.host, port: seed.port });
    const done = (why: string) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done('timed out'));
    socket.once('connect', () => done('accepts connections'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'connection refused' : errorMessage(error)),
    );
  });
}
