// Options of the Redis store, and their defaults (one place, read by every part of it).
import type { RedisOptions } from 'ioredis';
import type { RedisEndpoint } from './redis-url.js';

export interface RedisIdentityStoreOptions {
  /** `redis://`, `rediss://`, `redis+cluster://h1:p1,h2:p2` (see redis-url.ts). */
  url?: string;
  /** Redis Cluster seed nodes (instead of, or overriding the hosts of, `url`). */
  clusterNodes?: RedisEndpoint[];
  /** Scopes every key, so deployments can share a Redis. No braces. Default `podgate:`. */
  keyPrefix?: string;
  /** Deadline of one lookup, like Envoy ext_authz's default. Default 200. */
  lookupTimeoutMs?: number;
  /** How often readers re-read the heartbeats of the clusters they consult. Default 1000. */
  freshnessRefreshMs?: number;
  /** Clusters whose heartbeats are read at creation; lookups add the others they name. */
  clusters?: readonly string[];
  /**
   * Passed to ioredis (for Cluster: as `redisOptions` of each node). The lookup connection
   * takes `username`, `password`, `db`, `tls` and `retryStrategy` from here too.
   */
  redisOptions?: RedisOptions;
  /** One server only: lookups on their own pipelined connection (ADR 0004). Default true. */
  dedicatedLookupConnection?: boolean;
  /**
   * Pods per reconcile script (entries per drop script likewise). Default 256. 0: one pod
   * per script, as events write them.
   */
  reconcileBatchSize?: number;
  /** Lookups in flight on the lookup connection before new ones fail at once. Default 10,000. */
  maxOutstandingLookups?: number;
  /** Lookups sent in one write as soon as this many wait (ReadConnection's flushAfterCommands). */
  lookupFlushAfter?: number;
  /**
   * Monotonic milliseconds for heartbeat freshness. Default performance.now: a wall clock
   * stepped back would stretch trust in a dead watcher's claims past its heartbeat's TTL.
   */
  now?: () => number;
  /** Connection errors and failed background refreshes (the store itself never throws on lookup). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_KEY_PREFIX = 'podgate:';
export const DEFAULT_LOOKUP_TIMEOUT_MS = 200;
export const DEFAULT_FRESHNESS_REFRESH_MS = 1000;
/** A safety net for writes; lookups have their own, shorter deadline. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/**
 * One batch of 256 pods is one script of a few ms (lookups of that cluster wait behind it);
 * two in flight let the watcher build the next batch while Redis runs one.
 */
export const DEFAULT_RECONCILE_BATCH = 256;
