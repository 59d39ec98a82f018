// The Redis store (one server or Redis Cluster). Key layout, atomicity and freshness rules:
// docs/adr/0002-redis-key-layout.md. A lookup is one HGETALL; everything else a reader
// needs (which clusters are fresh) is kept up to date in the background. On one server,
// lookups go through a dedicated pipelined connection (redis-read/, ADR 0004); writes,
// heartbeats and Redis Cluster use ioredis.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { isCanonicalIpv4 } from './canonical-ipv4.js';
import { type ClaimEntry, claimField, decodeClaim, encodeClaim, splitClaimField } from './claim.js';
import { assertClusterName } from './cluster-name.js';
import { IdentityError } from './errors.js';
import { FreshnessTracker } from './freshness.js';
import { canonicalIps, tryNormalizeIp } from './ip.js';
import type { LookupResult, PodRecord } from './model.js';
import {
  type BatchTarget,
  claimInBatches,
  defineBatchScripts,
  podEntryIps,
  sweepInBatches,
} from './redis-batch-reconcile.js';
import { ReadConnection, type ReadError } from './redis-read/connection.js';
import {
  DELETE_CLAIM,
  DROP_POD,
  FENCED_REPLY,
  HEARTBEAT,
  RAISE_EPOCH,
  SET_CLAIM,
  SET_POD,
} from './redis-scripts.js';
import { type ParsedRedisUrl, parseRedisUrl, type RedisEndpoint } from './redis-url.js';
import { notFound, resolveClaims } from './resolve.js';
import {
  assertHeartbeatTtl,
  assertPodUid,
  EPOCH_FIELD,
  EpochStore,
  fencedError,
  type IdentityStore,
  type ReconcileOptions,
  type ReconcileStats,
  reconcileBound,
} from './store.js';

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
   * One server only: pods per reconcile script (IPs per sweep script: 4x this). Default 256.
   * 0: one pod at a time with one-slot scripts, as on Redis Cluster.
   */
  reconcileBatchSize?: number;
  /** Lookups in flight on the lookup connection before new ones fail at once. Default 10,000. */
  maxOutstandingLookups?: number;
  /**
   * Monotonic milliseconds for heartbeat freshness. Default performance.now: a wall clock
   * stepped back would stretch trust in a dead watcher's claims past its heartbeat's TTL.
   */
  now?: () => number;
  /** Connection errors and failed background refreshes (the store itself never throws on lookup). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_KEY_PREFIX = 'podgate:';
const DEFAULT_LOOKUP_TIMEOUT_MS = 200;
const DEFAULT_FRESHNESS_REFRESH_MS = 1000;
/** A safety net for writes; lookups have their own, shorter deadline. */
const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
const SCAN_COUNT = 1000;
/**
 * Reconcile's writes in flight at once. Under 100 on purpose: V8 moves an allocation
 * site to old-space allocation ("pretenuring") once a scavenge finds 100 or more of its
 * objects still alive, and a burst of 128 claims waiting on Redis was enough; every
 * later claim's garbage then went straight to the old generation (peak RSS 390 MB
 * instead of 220 at 100,000 pods with Node's default heap limits).
 */
const WRITE_CONCURRENCY = 64;
/**
 * One server: a batch of 256 pods is one script of a few ms (lookups wait behind it); two
 * in flight let the watcher build the next batch while Redis runs one.
 */
const DEFAULT_RECONCILE_BATCH = 256;
const SWEEP_BATCH_FACTOR = 4;
const BATCHES_IN_FLIGHT = 2;

type Client = Redis | Cluster;
type ScriptFn = (...args: string[]) => Promise<unknown>;
interface Scripts {
  podgateSetPod: ScriptFn;
  podgateSetClaim: ScriptFn;
  podgateDeleteClaim: ScriptFn;
  podgateDropPod: ScriptFn;
  podgateHeartbeat: ScriptFn;
  podgateRaiseEpoch: ScriptFn;
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
  client.on('error', (err: unknown) => options.onError?.(err));
  let reader: ReadConnection | undefined;
  try {
    await client.connect();
    if (client instanceof Redis && options.dedicatedLookupConnection !== false) {
      reader = await openLookupConnection(options);
    }
  } catch (err) {
    client.disconnect();
    throw new IdentityError('invalid_store_options', `cannot connect to Redis: ${errorText(err)}`, {
      cause: err,
    });
  }
  const store = new RedisIdentityStore(client, prefix, options, reader);
  await store.startFreshness(options.clusters ?? []);
  return store;
}

function parsedUrl(options: RedisIdentityStoreOptions): ParsedRedisUrl | undefined {
  return options.url !== undefined ? parseRedisUrl(options.url) : undefined;
}

/** The single-server lookup connection, with the same credentials, db and TLS as ioredis. */
function openLookupConnection(options: RedisIdentityStoreOptions): Promise<ReadConnection> {
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
    requestTimeoutMs: options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
}

function createClient(options: RedisIdentityStoreOptions): Client {
  const parsed = parsedUrl(options);
  const seeds = options.clusterNodes ?? (parsed?.mode === 'cluster' ? parsed.nodes : undefined);
  const common: RedisOptions = {
    ...(parsed?.username !== undefined ? { username: parsed.username } : {}),
    ...(parsed?.password !== undefined ? { password: parsed.password } : {}),
    ...(parsed?.tls ? { tls: {} } : {}),
    commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS,
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

export class RedisIdentityStore extends EpochStore implements IdentityStore {
  private readonly scripts: Scripts;
  private readonly freshness: FreshnessTracker;
  private readonly lookupTimeoutMs: number;
  /** Pods per reconcile script; 0 on Redis Cluster (scripts there touch one slot). */
  private readonly reconcileBatch: number;
  /** Clusters whose heartbeats are tracked: a lookup naming only these is one round trip. */
  private readonly trackedClusters = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly prefix: string,
    options: RedisIdentityStoreOptions,
    private readonly reader?: ReadConnection,
  ) {
    super();
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
    client.defineCommand('podgateSetPod', { numberOfKeys: 2, lua: SET_POD });
    client.defineCommand('podgateSetClaim', { numberOfKeys: 1, lua: SET_CLAIM });
    client.defineCommand('podgateDeleteClaim', { numberOfKeys: 1, lua: DELETE_CLAIM });
    client.defineCommand('podgateDropPod', { numberOfKeys: 1, lua: DROP_POD });
    client.defineCommand('podgateHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
    client.defineCommand('podgateRaiseEpoch', { numberOfKeys: 1, lua: RAISE_EPOCH });
    this.scripts = client as unknown as Scripts;
    const batch = options.reconcileBatchSize ?? DEFAULT_RECONCILE_BATCH;
    if (!Number.isInteger(batch) || batch < 0) {
      throw new IdentityError(
        'invalid_store_options',
        `reconcileBatchSize must be an integer >= 0, got ${batch}`,
      );
    }
    this.reconcileBatch = client instanceof Redis ? batch : 0;
    if (client instanceof Redis) defineBatchScripts(client);
    this.freshness = new FreshnessTracker({
      readTtls: (clusters) => this.readHeartbeatTtls(clusters),
      refreshMs: options.freshnessRefreshMs ?? DEFAULT_FRESHNESS_REFRESH_MS,
      now: options.now ?? (() => performance.now()),
      ...(options.onError !== undefined ? { onError: options.onError } : {}),
    });
  }

  /** @internal Called once by createRedisIdentityStore. */
  async startFreshness(clusters: readonly string[]): Promise<void> {
    await this.track(clusters);
    this.freshness.start();
  }

  private async track(clusters: readonly string[]): Promise<void> {
    await this.freshness.track(clusters);
    for (const c of clusters) this.trackedClusters.add(c);
  }

  private allTracked(clusters: readonly string[]): boolean {
    for (let i = 0; i < clusters.length; i++) if (!this.trackedClusters.has(clusters[i]!)) return false;
    return true;
  }

  private ipKey(ip: string): string {
    return `${this.prefix}ip:{${ip}}`;
  }
  private podsKey(cluster: string): string {
    return `${this.prefix}pods:{${cluster}}`;
  }
  private ipsKey(cluster: string): string {
    return `${this.prefix}ips:{${cluster}}`;
  }
  private heartbeatKey(cluster: string): string {
    return `${this.prefix}hb:{${cluster}}`;
  }

  /** @internal EpochWrites (store.ts): the writes, at a writer epoch. */
  async claimAt(cluster: string, record: PodRecord, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(record.uid);
    return fencing(cluster, epoch, this.writeClaim(cluster, record, epoch));
  }

  private async writeClaim(cluster: string, record: PodRecord, epoch: number): Promise<void> {
    const ips = canonicalIps(record.ips);
    const rv = record.resourceVersion;
    // Fenced in SET_POD; the IP writes follow only an accepted SET_POD, and the re-read
    // below withdraws them if a newer writer's write got in between (ADR 0003).
    const previous = await this.scripts.podgateSetPod(
      this.podsKey(cluster),
      this.ipsKey(cluster),
      record.uid,
      rv,
      ips.join(','),
      '0',
      String(epoch),
    );
    if (previous === null) return; // a newer version of this pod is already stored
    const field = claimField(cluster, record.uid);
    const json = encodeClaim({ ...record, ips });
    const released = podEntryIps(previous).filter((ip) => !ips.includes(ip));
    await Promise.all([
      ...ips.map((ip) => this.scripts.podgateSetClaim(this.ipKey(ip), field, rv, json)),
      ...released.map((ip) => this.scripts.podgateDeleteClaim(this.ipKey(ip), field, rv)),
    ]);
    if (ips.length === 0) return;
    // SET_CLAIM sees only its IP's hash: if another writer (an old leader's write still in
    // flight, ADR 0003) stored a newer version of this pod after our SET_POD and released
    // these IPs before our SET_CLAIM landed, nothing refused it. The pod entry is the truth:
    // re-read it after our writes and withdraw the claims it does not list (only ours, and
    // only if not newer). Whoever wrote the entry after us did so before this read, so
    // either it removed our claim or we do.
    const listed = podEntryIps(await this.client.hget(this.podsKey(cluster), record.uid));
    const stray = ips.filter((ip) => !listed.includes(ip));
    await Promise.all(stray.map((ip) => this.scripts.podgateDeleteClaim(this.ipKey(ip), field, rv)));
  }

  /** @internal */
  async releaseAt(cluster: string, uid: string, resourceVersion: string, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertPodUid(uid);
    return fencing(cluster, epoch, this.writeRelease(cluster, uid, resourceVersion, epoch));
  }

  private async writeRelease(cluster: string, uid: string, resourceVersion: string, epoch: number) {
    const previous = await this.scripts.podgateSetPod(
      this.podsKey(cluster),
      this.ipsKey(cluster),
      uid,
      resourceVersion,
      '',
      '1',
      String(epoch),
    );
    if (previous === null) return;
    const field = claimField(cluster, uid);
    await Promise.all(
      podEntryIps(previous).map((ip) =>
        this.scripts.podgateDeleteClaim(this.ipKey(ip), field, resourceVersion),
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
    return fencing(cluster, epoch, this.writeReconcile(cluster, records, options, epoch));
  }

  private async writeReconcile(
    cluster: string,
    records: PodRecord[],
    options: ReconcileOptions,
    epoch: number,
  ): Promise<ReconcileStats> {
    // Every script below that writes the pod index checks the epoch; this early read only
    // makes a deposed writer's reconcile fail even when it would write no pod entry.
    const stored = Number((await this.client.hget(this.podsKey(cluster), EPOCH_FIELD)) ?? '0');
    if (epoch < stored) throw fencedError(cluster, epoch, stored);
    const batch = this.batchTarget(cluster, epoch);
    if (batch !== undefined) {
      await claimInBatches(batch, cluster, records, this.reconcileBatch, BATCHES_IN_FLIGHT);
    } else {
      await forEachLimit(records, WRITE_CONCURRENCY, (r) => this.writeClaim(cluster, r, epoch));
    }
    // uid -> canonical IPs, sharing the records' own arrays (already canonical when they
    // come from derivePodRecord): at 100,000 pods a Set per pod cost ~20 MB of heap.
    const listed = new Map<string, readonly string[]>();
    for (const r of records) listed.set(r.uid, areCanonical(r.ips) ? r.ips : canonicalIps(r.ips));
    // Entries newer than the listing were written by events after it: keep them.
    const bound = reconcileBound(records, options.listingVersion);
    const podsKey = this.podsKey(cluster);

    await this.scan('hscan', podsKey, async (items) => {
      const unlisted: string[] = [];
      for (let i = 0; i < items.length; i += 2) {
        const uid = items[i]!;
        if (uid !== EPOCH_FIELD && !listed.has(uid)) unlisted.push(uid);
      }
      await forEachLimit(unlisted, WRITE_CONCURRENCY, async (uid) => {
        await this.scripts.podgateDropPod(podsKey, uid, bound, String(epoch));
      });
    });

    if (batch !== undefined) {
      const removed = await this.sweepInBatches(batch, cluster, listed, bound);
      return { claimed: records.length, removed };
    }
    let removed = 0;
    const owner = `${cluster}/`;
    await this.scan('sscan', this.ipsKey(cluster), (ips) =>
      forEachLimit(ips, WRITE_CONCURRENCY, async (ip) => {
        const ipKey = this.ipKey(ip);
        // The flat [field, value, ...] reply: no object built per IP.
        const reply = (await this.client.call('HGETALL', ipKey)) as string[];
        let remaining = 0;
        for (let i = 0; i < reply.length; i += 2) {
          const field = reply[i]!;
          if (!field.startsWith(owner)) continue;
          if (listed.get(field.slice(owner.length))?.includes(ip)) {
            remaining++;
            continue;
          }
          const deleted = await this.scripts.podgateDeleteClaim(ipKey, field, bound);
          if (deleted === 1) removed++;
          else remaining++;
        }
        // Not atomic with the IP hash (another slot): a claim racing this SREM is
        // re-indexed by its next write, or cleaned by hand; claims stay correct.
        if (remaining === 0) await this.client.srem(this.ipsKey(cluster), ip);
      }),
    );
    return { claimed: records.length, removed };
  }

  /** The batched path's view of this store, on one server; undefined on Redis Cluster. */
  private batchTarget(cluster: string, epoch: number): BatchTarget | undefined {
    const client = this.client;
    if (this.reconcileBatch === 0 || !(client instanceof Redis)) return undefined;
    return {
      client,
      podsKey: this.podsKey(cluster),
      ipsKey: this.ipsKey(cluster),
      epoch,
      ipKey: (ip) => this.ipKey(ip),
      deleteClaim: (ipKey, field, rv) => this.scripts.podgateDeleteClaim(ipKey, field, rv),
    };
  }

  /** The sweep of ips:{c}, a batch of IPs per script (one server). */
  private async sweepInBatches(
    batch: BatchTarget,
    cluster: string,
    listed: ReadonlyMap<string, readonly string[]>,
    bound: string,
  ): Promise<number> {
    // IP -> uid(s) of the listed pods that list it; a plain uid for the usual one owner.
    const owners = new Map<string, string | string[]>();
    for (const [uid, ips] of listed) {
      for (const ip of ips) {
        const seen = owners.get(ip);
        if (seen === undefined) owners.set(ip, uid);
        else if (typeof seen === 'string') owners.set(ip, [seen, uid]);
        else seen.push(uid);
      }
    }
    let removed = 0;
    const size = this.reconcileBatch * SWEEP_BATCH_FACTOR;
    await this.scan('sscan', batch.ipsKey, async (ips) => {
      const deleted = await sweepInBatches(
        batch,
        cluster,
        ips,
        (ip) => owners.get(ip),
        bound,
        size,
        BATCHES_IN_FLIGHT,
      );
      removed += deleted;
    });
    return removed;
  }

  /** @internal */
  async heartbeatAt(cluster: string, ttlMs: number, epoch: number): Promise<void> {
    assertClusterName(cluster);
    assertHeartbeatTtl(ttlMs);
    await fencing(
      cluster,
      epoch,
      this.scripts.podgateHeartbeat(
        this.heartbeatKey(cluster),
        this.podsKey(cluster),
        String(Date.now()),
        String(ttlMs),
        String(epoch),
      ),
    );
  }

  /** @internal */
  async raiseEpoch(cluster: string, epoch: number): Promise<number> {
    return Number(await this.scripts.podgateRaiseEpoch(this.podsKey(cluster), String(epoch)));
  }

  lookup(ip: string, clusters: readonly string[]): Promise<LookupResult> {
    const canonical = typeof ip === 'string' && isCanonicalIpv4(ip) ? ip : tryNormalizeIp(ip);
    if (canonical === null) {
      return Promise.resolve(
        notFound('not_found', `not an IP address: ${JSON.stringify(String(ip).slice(0, 64))}`),
      );
    }
    const reader = this.reader;
    if (reader === undefined || !this.allTracked(clusters)) return this.lookupViaClient(canonical, clusters);
    // The hot path: no timer here (the connection keeps the deadline), one callback.
    return new Promise((resolve) => {
      reader.send(['HGETALL', this.ipKey(canonical)], (err, reply) => {
        resolve(err === null ? this.resolveReply(canonical, reply, clusters) : this.unavailable(err));
      });
    });
  }

  /** Redis Cluster, or a lookup naming a cluster not tracked yet (it waits for its heartbeat). */
  private lookupViaClient(canonical: string, clusters: readonly string[]): Promise<LookupResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        resolve(this.unavailable({ code: 'timeout' }));
      }, this.lookupTimeoutMs);
      const onError = (err: unknown) => {
        clearTimeout(timer);
        resolve(notFound('store_unavailable', `identity store unavailable: ${errorText(err)}`));
      };
      const read = () => {
        try {
          // `call` keeps the flat [field, value, ...] reply the lookup connection also gets.
          this.client
            .call('HGETALL', this.ipKey(canonical))
            .then((reply) => {
              clearTimeout(timer);
              resolve(this.resolveReply(canonical, reply, clusters));
            })
            .catch(onError);
        } catch (err) {
          onError(err);
        }
      };
      // Only the first lookup naming a cluster pays an extra round trip (to read its heartbeat).
      if (!this.allTracked(clusters)) this.track(clusters).then(read, onError);
      else read();
    });
  }

  private unavailable(err: Pick<ReadError, 'code'> & { message?: string }): LookupResult {
    return notFound(
      'store_unavailable',
      err.code === 'timeout'
        ? `identity store unavailable: no answer within ${this.lookupTimeoutMs} ms`
        : `identity store unavailable: ${err.message}`,
    );
  }

  /** An HGETALL reply, `[field, value, ...]`, resolved for the consulted clusters. */
  private resolveReply(ip: string, reply: unknown, clusters: readonly string[]): LookupResult {
    if (!Array.isArray(reply)) return notFound('store_unavailable', 'unexpected reply to HGETALL');
    const entries: ClaimEntry[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field: unknown = reply[i];
      const value: unknown = reply[i + 1];
      if (typeof field !== 'string' || typeof value !== 'string') continue;
      const owner = splitClaimField(field);
      // Only the consulted clusters' claims are decoded.
      if (owner === null || !clusters.includes(owner.cluster)) continue;
      entries.push({ cluster: owner.cluster, uid: owner.uid, claim: decodeClaim(value) });
    }
    return resolveClaims(ip, entries, clusters, (c) => this.freshness.isFresh(c));
  }

  /** Re-reads every tracked cluster's heartbeat now (the background refresh, on demand). */
  refreshFreshness(): Promise<void> {
    return this.freshness.refresh();
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

  private async readHeartbeatTtls(clusters: readonly string[]): Promise<Map<string, number>> {
    const ttls = await Promise.all(clusters.map((c) => this.client.pttl(this.heartbeatKey(c))));
    return new Map(clusters.map((c, i) => [c, ttls[i] ?? -2]));
  }

  private async scan(
    command: 'hscan' | 'sscan',
    key: string,
    onBatch: (items: string[]) => Promise<void>,
  ): Promise<void> {
    let cursor = '0';
    do {
      const [next, items] = await this.client[command](key, cursor, 'COUNT', SCAN_COUNT);
      await onBatch(items);
      cursor = next;
    } while (cursor !== '0');
  }
}

/** `write`, with a script's FENCED_REPLY turned into IdentityError `fenced`. */
async function fencing<T>(cluster: string, epoch: number, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const text = errorText(err);
    if (!text.startsWith(FENCED_REPLY)) throw err;
    const stored = Number(text.slice(FENCED_REPLY.length + 1));
    throw fencedError(cluster, epoch, Number.isSafeInteger(stored) ? stored : undefined);
  }
}

function areCanonical(ips: readonly string[]): boolean {
  for (const ip of ips) if (tryNormalizeIp(ip) !== ip) return false;
  return ips.length < 2 || new Set(ips).size === ips.length;
}

async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
