// The Redis store's reader: one LOOKUP script per consulted cluster, all sent at once, so a
// lookup is one round trip. On one server it goes through the dedicated pipelined connection
// (ADR 0004); on Redis Cluster, or for a cluster whose heartbeat is not tracked yet, through
// ioredis. Never throws: an unreachable store or a missed deadline is `store_unavailable`.
import { createHash } from 'node:crypto';
import { type ClaimEntry, decodeEntry } from './claim.js';
import type { FreshnessTracker } from './freshness.js';
import { tryNormalizeIp } from './ip.js';
import type { LookupResult } from './model.js';
import type { Client } from './redis-connect.js';
import type { RedisKeys } from './redis-keys.js';
import type { ReadConnection, ReadError } from './redis-read/connection.js';
import { encodeBulk, encodeCommandStart, type RespValue } from './redis-read/resp.js';
import { LOOKUP } from './redis-scripts.js';
import { notFound, resolveClaims } from './resolve.js';

export const LOOKUP_SHA = createHash('sha1').update(LOOKUP).digest('hex');
/** Sent on every (re)connection of the lookup connection, so EVALSHA finds the script. */
export const LOOKUP_PREPARE: readonly (readonly string[])[] = [['SCRIPT', 'LOAD', LOOKUP]];

type LookupScript = (claimsKey: string, podsKey: string, ip: string) => Promise<unknown>;

export interface RedisReaderDeps {
  client: Client;
  reader: ReadConnection | undefined;
  keys: RedisKeys;
  lookupTimeoutMs: number;
  freshness: FreshnessTracker;
}

export class RedisReader {
  /**
   * Clusters whose heartbeats are tracked (a lookup naming only these is one round trip), each
   * with its lookup command's start, `EVALSHA <sha> 2 <claims key> <pods key>`, encoded once:
   * only the IP differs from one lookup to the next.
   */
  private readonly tracked = new Map<string, string>();
  private readonly script: LookupScript;

  constructor(private readonly deps: RedisReaderDeps) {
    deps.client.defineCommand('podgateLookup', { numberOfKeys: 2, lua: LOOKUP });
    this.script = (deps.client as unknown as { podgateLookup: LookupScript }).podgateLookup.bind(deps.client);
  }

  async track(clusters: readonly string[]): Promise<void> {
    await this.deps.freshness.track(clusters);
    const { keys } = this.deps;
    for (const c of clusters) {
      if (this.tracked.has(c)) continue;
      this.tracked.set(c, encodeCommandStart(6, ['EVALSHA', LOOKUP_SHA, '2', keys.claims(c), keys.pods(c)]));
    }
  }

  private allTracked(clusters: readonly string[]): boolean {
    for (let i = 0; i < clusters.length; i++) if (!this.tracked.has(clusters[i]!)) return false;
    return true;
  }

  lookup(ip: string, consulted: readonly string[]): Promise<LookupResult> {
    // One script per cluster: a cluster named twice would count its claimant twice (ambiguous).
    const clusters = consulted.length > 1 ? [...new Set(consulted)] : consulted;
    const canonical = tryNormalizeIp(ip);
    if (canonical === null) {
      return Promise.resolve(
        notFound('not_found', `not an IP address: ${JSON.stringify(String(ip).slice(0, 64))}`),
      );
    }
    if (clusters.length === 0) return Promise.resolve(resolveClaims(canonical, [], clusters, () => false));
    const reader = this.deps.reader;
    if (reader === undefined || !this.allTracked(clusters)) return this.lookupViaClient(canonical, clusters);
    // The hot path: no timer here (the connection keeps the deadline), one callback per cluster.
    if (clusters.length === 1) {
      return new Promise((resolve) => {
        this.sendLookup(reader, clusters[0]!, canonical, (err, reply) => {
          resolve(err !== null ? this.unavailable(err) : this.resolveReplies(canonical, [reply], clusters));
        });
      });
    }
    return new Promise((resolve) => {
      const replies: RespValue[] = new Array(clusters.length);
      let left = clusters.length;
      let failed = false;
      clusters.forEach((cluster, n) => {
        this.sendLookup(reader, cluster, canonical, (err, reply) => {
          if (failed) return;
          if (err !== null) {
            failed = true;
            resolve(this.unavailable(err));
            return;
          }
          replies[n] = reply;
          if (--left === 0) resolve(this.resolveReplies(canonical, replies, clusters));
        });
      });
    });
  }

  /**
   * EVALSHA; after a SCRIPT FLUSH (no reconnection) once more as EVAL, which re-caches it.
   * Only for a tracked `cluster` (lookup checks allTracked first).
   */
  private sendLookup(
    reader: ReadConnection,
    cluster: string,
    ip: string,
    done: (err: ReadError | null, reply: RespValue) => void,
  ): void {
    reader.sendEncoded(this.tracked.get(cluster)! + encodeBulk(ip), (err, reply) => {
      if (err?.code === 'error_reply' && err.message.startsWith('NOSCRIPT')) {
        const { keys } = this.deps;
        reader.send(['EVAL', LOOKUP, '2', keys.claims(cluster), keys.pods(cluster), ip], done);
      } else {
        done(err, reply);
      }
    });
  }

  /** Redis Cluster, or a lookup naming a cluster not tracked yet (it waits for its heartbeat). */
  private lookupViaClient(canonical: string, clusters: readonly string[]): Promise<LookupResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        resolve(this.unavailable({ code: 'timeout' }));
      }, this.deps.lookupTimeoutMs);
      const onError = (err: unknown) => {
        clearTimeout(timer);
        resolve(this.unavailable({ code: 'error_reply', message: errorText(err) }));
      };
      const read = () => {
        try {
          const { keys } = this.deps;
          Promise.all(clusters.map((c) => this.script(keys.claims(c), keys.pods(c), canonical)))
            .then((replies) => {
              clearTimeout(timer);
              resolve(this.resolveReplies(canonical, replies, clusters));
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
        ? `identity store unavailable: no answer within ${this.deps.lookupTimeoutMs} ms`
        : `identity store unavailable: ${err.message}`,
    );
  }

  /** LOOKUP replies, `[uid, entry, ...]` per consulted cluster, resolved together. */
  private resolveReplies(ip: string, replies: readonly unknown[], clusters: readonly string[]): LookupResult {
    const entries: ClaimEntry[] = [];
    for (let n = 0; n < clusters.length; n++) {
      const reply = replies[n];
      if (!Array.isArray(reply)) return notFound('store_unavailable', 'unexpected reply to the lookup');
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const uid: unknown = reply[i];
        const entry: unknown = reply[i + 1];
        if (typeof uid !== 'string' || typeof entry !== 'string') continue;
        entries.push({ cluster: clusters[n]!, uid, claim: decodeEntry(entry) });
      }
    }
    const { freshness } = this.deps;
    return resolveClaims(
      ip,
      entries,
      clusters,
      (c) => freshness.isFresh(c),
      (c) => freshness.wasWritten(c),
    );
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
