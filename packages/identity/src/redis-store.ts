// The Redis store (one server or Redis Cluster). Key layout, atomicity and freshness rules:
// docs/adr/0002-redis-key-layout.md. Every write is one script on the keys of one cluster
// (one hash slot), checked against the cluster's writer epoch (ADR 0003); a lookup is one
// script per consulted cluster, one round trip; which clusters are fresh is kept up to date
// in the background. The parts: redis-connect.ts (connections), redis-scripts.ts (the Lua),
// redis-lookup.ts (the reader), redis-reconcile.ts (reconcile).
import { Redis } from 'ioredis';
import { encodeTombstone } from './claim.js';
import { assertClusterName } from './cluster-name.js';
import { IdentityError } from './errors.js';
import { FreshnessTracker, type HeartbeatRead } from './freshness.js';
import type { LookupResult, PodRecord } from './model.js';
import { type Client, connectFailure, createClient, openLookupConnection } from './redis-connect.js';
import { InFlightWrites } from './redis-in-flight.js';
import { RedisKeys } from './redis-keys.js';
import { errorText, LOOKUP_PREPARE, RedisReader } from './redis-lookup.js';
import {
  DEFAULT_FRESHNESS_REFRESH_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_LOOKUP_TIMEOUT_MS,
  DEFAULT_RECONCILE_BATCH,
  type RedisIdentityStoreOptions,
} from './redis-options.js';
import type { ReadConnection } from './redis-read/connection.js';
import { claimArgs, type ReconcileTarget, reconcileOnRedis, type WriteScripts } from './redis-reconcile.js';
import {
  DATA_LOST_REPLY,
  DROP_PODS,
  FENCED_REPLY,
  HEARTBEAT,
  RAISE_EPOCH,
  SWEEP_INDEX,
  SYNC_MARK,
  WRITE_POD,
  WRITE_PODS,
} from './redis-scripts.js';
import {
  assertHeartbeatTtl,
  assertPodUid,
  DataLostError,
  EpochStore,
  fencedError,
  type IdentityStore,
  type ReconcileOptions,
  type ReconcileStats,
} from './store.js';

export { DEFAULT_KEY_PREFIX, type RedisIdentityStoreOptions } from './redis-options.js';

interface Scripts extends WriteScripts {
  podgateHeartbeat: (...args: string[]) => Promise<unknown>;
  podgateRaiseEpoch: (...args: string[]) => Promise<unknown>;
}

export async function createRedisIdentityStore(
  options: RedisIdentityStoreOptions,
): Promise<RedisIdentityStore> {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (/[{}]/.test(prefix)) {
    throw new IdentityError('invalid_store_options', 'keyPrefix may not contain { or } (they are hash tags)');
  }
  // The lookup connection does not apply ioredis' keyPrefix: writes would go to one
  // prefix and lookups read another (on a shared Redis, another deployment's claims).
  if (options.redisOptions?.keyPrefix !== undefined) {
    throw new IdentityError('invalid_store_options', 'set keyPrefix on the store, not in redisOptions');
  }
  for (const c of options.clusters ?? []) assertClusterName(c);
  const client = createClient(options);
  // ioredis' connect() rejects with "Connection is closed."; the cause is the last 'error'.
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
    options.onError?.(err);
  });
  let reader: ReadConnection | undefined;
  try {
    await client.connect();
    if (client instanceof Redis && options.dedicatedLookupConnection !== false) {
      reader = await openLookupConnection(options, LOOKUP_PREPARE);
    }
  } catch (err) {
    client.disconnect();
    throw connectFailure(options, lastError ?? err);
  }
  const store = new RedisIdentityStore(client, prefix, options, reader);
  await store.startFreshness(options.clusters ?? []);
  return store;
}

export class RedisIdentityStore extends EpochStore implements IdentityStore {
  private readonly scripts: Scripts;
  private readonly keys: RedisKeys;
  private readonly freshness: FreshnessTracker;
  private readonly readerPart: RedisReader;
  private readonly reconcileTarget: ReconcileTarget;
  /** Clusters this store has completed a reconcile of: its heartbeats vouch for their data. */
  private readonly vouched = new Set<string>();
  /**
   * Single-command writes (a claim, a release, a heartbeat) fail when their connection closes
   * (redis-in-flight.ts). On one server only: a Redis Cluster's commands ride one connection per
   * node, and its writes still wait for the command timeout. A reconcile is not cut short this
   * way either: its batches run on in parallel, and failing it while some still run would let
   * the next reconcile overlap them.
   */
  private readonly inFlight: InFlightWrites | null;

  constructor(
    private readonly client: Client,
    prefix: string,
    options: RedisIdentityStoreOptions,
    private readonly reader?: ReadConnection,
  ) {
    super();
    const batchSize = options.reconcileBatchSize ?? DEFAULT_RECONCILE_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 0) {
      throw new IdentityError(
        'invalid_store_options',
        `reconcileBatchSize must be an integer >= 0, got ${batchSize}`,
      );
    }
    this.keys = new RedisKeys(prefix);
    this.inFlight = client instanceof Redis ? new InFlightWrites(client) : null;
    client.defineCommand('podgateWritePod', { numberOfKeys: 2, lua: WRITE_POD });
    client.defineCommand('podgateWritePods', { numberOfKeys: 2, lua: WRITE_PODS });
    client.defineCommand('podgateDropPods', { numberOfKeys: 2, lua: DROP_PODS });
    client.defineCommand('podgateSweepIndex', { numberOfKeys: 2, lua: SWEEP_INDEX });
    client.defineCommand('podgateHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
    client.defineCommand('podgateRaiseEpoch', { numberOfKeys: 1, lua: RAISE_EPOCH });
    client.defineCommand('podgateSyncMark', { numberOfKeys: 1, lua: SYNC_MARK });
    this.scripts = client as unknown as Scripts;
    this.reconcileTarget = { client, scripts: this.scripts, keys: this.keys, batchSize };
    this.freshness = new FreshnessTracker({
      readTtls: (clusters) => this.readHeartbeatTtls(clusters),
      refreshMs: options.freshnessRefreshMs ?? DEFAULT_FRESHNESS_REFRESH_MS,
      now: options.now ?? (() => performance.now()),
      ...(options.onError !== undefined ? { onError: options.onError } : {}),
    });
    this.readerPart = new RedisReader({
      client,
      reader,
      keys: this.keys,
      lookupTimeoutMs: options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
      freshness: this.freshness,
    });
  }

  /** @internal Called once by createRedisIdentityStore. */
  async startFreshness(clusters: readonly string[]): Promise<void> {
    await this.readerPart.track(clusters);
    this.freshness.start();
  }

  /** @internal EpochWrites (store.ts): the writes, at a writer epoch. */
  async claimAt(cluster: string, record: PodRecord, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(record.uid);
    await fencing(
      cluster,
      epoch,
      this.guarded(this.scripts.podgateWritePod(...claimArgs(this.reconcileTarget, cluster, record, epoch))),
    );
  }

  /** @internal */
  async releaseAt(cluster: string, uid: string, resourceVersion: string, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(uid);
    await fencing(
      cluster,
      epoch,
      this.guarded(
        this.scripts.podgateWritePod(
          this.keys.pods(cluster),
          this.keys.claims(cluster),
          String(epoch),
          uid,
          resourceVersion,
          '',
          '1',
          encodeTombstone(resourceVersion),
        ),
      ),
    );
  }

  /** @internal */
  async reconcileAt(
    cluster: string,
    records: PodRecord[],
    options: ReconcileOptions = {},
    epoch = 0,
  ): Promise<ReconcileStats> {
    assertClusterName(cluster);
    for (const r of records) assertPodUid(r.uid);
    const stats = await fencing(
      cluster,
      epoch,
      reconcileOnRedis(this.reconcileTarget, cluster, records, options, epoch),
    );
    this.vouched.add(cluster);
    return stats;
  }

  /** @internal */
  async heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertHeartbeatTtl(ttlMs);
    await fencing(
      cluster,
      epoch,
      this.guarded(
        this.scripts.podgateHeartbeat(
          this.keys.heartbeat(cluster),
          this.keys.pods(cluster),
          String(Date.now()),
          String(ttlMs),
          String(epoch),
          this.vouched.has(cluster) ? '1' : '0',
        ),
      ),
    );
  }

  /** @internal */
  async raiseEpoch(cluster: string, epoch: number): Promise<number> {
    return Number(await this.scripts.podgateRaiseEpoch(this.keys.pods(cluster), String(epoch)));
  }

  private guarded<T>(write: Promise<T>): Promise<T> {
    return this.inFlight === null ? write : this.inFlight.guard(write);
  }

  lookup(ip: string, clusters: readonly string[]): Promise<LookupResult> {
    return this.readerPart.lookup(ip, clusters);
  }

  /** Re-reads every tracked cluster's heartbeat now, in a read sent after this call. */
  refreshFreshness(): Promise<void> {
    return this.freshness.readNow();
  }

  async close(): Promise<void> {
    this.freshness.stop();
    this.reader?.close();
    // QUIT waits for a reply; a hung Redis must not hang shutdown.
    await Promise.race([
      this.client.quit().catch(() => undefined),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
    this.client.disconnect();
  }

  private async readHeartbeatTtls(clusters: readonly string[]): Promise<Map<string, HeartbeatRead>> {
    // An expired heartbeat key is gone like one never written: the cluster's records (same
    // hash slot) tell a stopped watcher from a name no watcher ever wrote.
    const reads = await Promise.all(
      clusters.map((c) =>
        Promise.all([
          this.client.pttl(this.keys.heartbeat(c)),
          this.client.exists(this.keys.pods(c), this.keys.claims(c)),
        ]),
      ),
    );
    return new Map(
      clusters.map((c, i) => {
        const [ttlMs, records] = reads[i] ?? [-2, 0];
        return [c, { ttlMs, written: ttlMs !== -2 || records > 0 }];
      }),
    );
  }
}

/** `write`, with a script's FENCED_REPLY turned into IdentityError `fenced`. */
async function fencing<T>(cluster: string, epoch: number, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const text = errorText(err);
    if (text.startsWith(DATA_LOST_REPLY)) throw new DataLostError(cluster);
    if (!text.startsWith(FENCED_REPLY)) throw err;
    const stored = Number(text.slice(FENCED_REPLY.length + 1));
    throw fencedError(cluster, epoch, Number.isSafeInteger(stored) ? stored : undefined);
  }
}
