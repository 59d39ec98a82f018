// Opening the Redis store's connections: ioredis for writes, heartbeats and Redis Cluster, and
// on one server the dedicated lookup connection (ADR 0004) with the same credentials, db and TLS.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { IdentityError } from './errors.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_LOOKUP_TIMEOUT_MS,
  type RedisIdentityStoreOptions,
} from './redis-options.js';
import { ReadConnection } from './redis-read/connection.js';
import { type ParsedRedisUrl, parseRedisUrl, type RedisEndpoint } from './redis-url.js';

export type Client = Redis | Cluster;

function parsedUrl(options: RedisIdentityStoreOptions): ParsedRedisUrl | undefined {
  return options.url !== undefined ? parseRedisUrl(options.url) : undefined;
}

function clusterSeeds(options: RedisIdentityStoreOptions): RedisEndpoint[] | undefined {
  const parsed = parsedUrl(options);
  return options.clusterNodes ?? (parsed?.mode === 'cluster' ? parsed.nodes : undefined);
}

/** Where the store connects, for error messages: `host:port[,host:port...]`. */
export function storeAddress(options: RedisIdentityStoreOptions): string {
  const nodes = clusterSeeds(options) ?? parsedUrl(options)?.nodes ?? [];
  return nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
}

export function createClient(options: RedisIdentityStoreOptions): Client {
  const parsed = parsedUrl(options);
  const seeds = clusterSeeds(options);
  const common: RedisOptions = {
    ...(parsed?.username !== undefined ? { username: parsed.username } : {}),
    ...(parsed?.password !== undefined ? { password: parsed.password } : {}),
    ...(parsed?.tls ? { tls: {} } : {}),
    commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS,
    // A write whose reply was lost is failed, never re-sent after a reconnect: the watcher
    // then converges by a full reconcile, instead of an old write landing at an unknown time.
    autoResendUnfulfilledCommands: false,
    // RESP2: the store needs nothing from RESP3, and RESP2 replies parse faster here
    // (bench/store.bench.ts). No auto-pipelining: it batches on the next tick, which
    // nearly halved the one-caller lookup rate; concurrent commands are written at once
    // and so pipeline on the socket anyway.
    protocol: 2,
    ...options.redisOptions,
  };
  // No offline queue: while disconnected, a lookup fails at once (store_unavailable)
  // instead of queueing behind an outage, and queued lookups cannot pile up in memory.
  if (seeds !== undefined) {
    if (seeds.length === 0) throw new IdentityError('invalid_store_options', 'no Redis Cluster seed nodes');
    return new Cluster(seeds, {
      enableOfflineQueue: false,
      lazyConnect: true,
      redisOptions: common,
    });
  }
  if (parsed === undefined)
    throw new IdentityError('invalid_store_options', 'a Redis url or clusterNodes is required');
  const node = parsed.nodes[0]!;
  return new Redis({
    host: node.host,
    port: node.port,
    ...(parsed.db !== undefined ? { db: parsed.db } : {}),
    enableOfflineQueue: false,
    lazyConnect: true,
    ...common,
  });
}

/** The single-server lookup connection; `prepare` runs on every (re)connection. */
export function openLookupConnection(
  options: RedisIdentityStoreOptions,
  prepare: readonly (readonly string[])[],
): Promise<ReadConnection> {
  const parsed = parsedUrl(options);
  const node = parsed?.nodes[0];
  if (node === undefined) throw new IdentityError('invalid_store_options', 'a Redis url is required');
  const ro = options.redisOptions ?? {};
  const username = ro.username ?? parsed?.username;
  const password = ro.password ?? parsed?.password;
  const db = ro.db ?? parsed?.db;
  const tls = ro.tls ?? (parsed?.tls ? {} : undefined);
  const retry = ro.retryStrategy;
  return ReadConnection.open({
    host: node.host,
    port: node.port,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(ro.connectTimeout !== undefined ? { connectTimeoutMs: ro.connectTimeout } : {}),
    ...(typeof retry === 'function'
      ? {
          retryDelayMs: (attempt: number) => {
            const delay = retry(attempt);
            return typeof delay === 'number' ? delay : null;
          },
        }
      : {}),
    ...(options.maxOutstandingLookups !== undefined ? { maxOutstanding: options.maxOutstandingLookups } : {}),
    ...(options.lookupFlushAfter !== undefined ? { flushAfterCommands: options.lookupFlushAfter } : {}),
    requestTimeoutMs: options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
    prepare,
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
}

/**
 * The error for a store that could not be opened: which address, and why in words an
 * operator can act on (ioredis alone says "Connection is closed.").
 */
export function connectFailure(options: RedisIdentityStoreOptions, err: unknown): IdentityError {
  return new IdentityError(
    'store_unavailable',
    `cannot connect to Redis at ${storeAddress(options) || '(no address)'}: ${describeCause(err)}`,
    { cause: err },
  );
}

export function describeCause(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused (is Redis running on that port?)'
      : code === 'ETIMEDOUT' || /timed? ?out/i.test(message)
        ? 'timed out'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host name not found'
          : /WRONGPASS|NOAUTH|invalid password|AUTH/i.test(message)
            ? 'authentication failed (check the user and password in the URL)'
            : /SSL|TLS|certificate|EPROTO/i.test(`${code} ${message}`)
              ? 'TLS handshake failed (rediss:// against a plain server, or an untrusted certificate?)'
              : '';
  return why === '' ? message : `${why}: ${message}`;
}
