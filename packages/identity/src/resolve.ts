// Turns the claims found under one IP into a lookup result. Shared by every store, so the
// rules live in one place:
// - only claims of consulted clusters count, and only while their cluster is fresh;
// - exactly one counting claim: that identity; two or more: 'ambiguous' (never first-wins);
// - none counting but some from stale clusters: 'stale_cluster';
// - nothing at all: 'stale_cluster' if a consulted cluster is stale (its watcher may have
//   missed the pod that owns the IP now), else 'not_found'. A cluster no watcher has ever
//   written (a misspelt name) counts as stale, and the message says that instead.
import type { ClaimEntry, StoredClaim } from './claim.js';
import { ERR_NOT_FOUND, type LookupResult, type NotFoundReason, type PodIdentity } from './model.js';

export function notFound(reason: NotFoundReason, message: string): LookupResult {
  return { ok: false, errorCode: ERR_NOT_FOUND, reason, message };
}

export function resolveClaims(
  ip: string,
  entries: readonly ClaimEntry[],
  clusters: readonly string[],
  isFresh: (cluster: string) => boolean,
  /** False for a cluster with nothing in the store; default: every cluster was written. */
  wasWritten: (cluster: string) => boolean = () => true,
): LookupResult {
  if (clusters.length === 0) return notFound('not_found', `no cluster consulted for ${ip}`);
  let live: ClaimEntry | undefined;
  let liveCount = 0;
  let staleCount = 0;
  for (const entry of entries) {
    if (!clusters.includes(entry.cluster)) continue;
    if (!isFresh(entry.cluster)) {
      staleCount++;
      continue;
    }
    liveCount++;
    live = entry;
  }
  if (liveCount > 1) {
    return notFound(
      'ambiguous',
      `${ip} is claimed by ${liveCount} live pods; it cannot be uniquely identified`,
    );
  }
  if (live !== undefined) {
    const { claim } = live;
    if (claim === null) {
      return notFound('store_unavailable', `the identity stored for ${ip} is unreadable`);
    }
    return { ok: true, identity: identityOf(live.cluster, live.uid, claim) };
  }
  const stale = clusters.filter((c) => !isFresh(c));
  if (staleCount > 0 || stale.length > 0) {
    const never = stale.filter((c) => !wasWritten(c));
    const stopped = stale.filter((c) => wasWritten(c));
    const why = [
      stopped.length > 0
        ? `the watcher of cluster ${stopped.join(', ')} has not sent a heartbeat in time`
        : '',
      never.length > 0
        ? `no watcher has ever written cluster ${never.join(', ')} (no heartbeat, no records: is the name right?)`
        : '',
    ].filter((part) => part !== '');
    return notFound('stale_cluster', `no fresh identity for ${ip}: ${why.join('; ')}`);
  }
  return notFound('not_found', `no pod owns ${ip} in cluster ${clusters.join(', ')}`);
}

/**
 * The identity of `uid` in `cluster` with this claim. A claim that is shared (frozen: the
 * decoded-entry cache's, or a memory store's) gets one identity object for every lookup that
 * finds it, so what is derived from an identity (the policy's view, its JSON) is derived once.
 */
const identities = new WeakMap<StoredClaim, PodIdentity>();

function identityOf(cluster: string, uid: string, claim: StoredClaim): PodIdentity {
  const known = identities.get(claim);
  if (known !== undefined && known.cluster === cluster && known.uid === uid) return known;
  const identity: PodIdentity = {
    cluster,
    uid,
    name: claim.name,
    namespace: claim.namespace,
    annotations: claim.annotations,
    errorCode: claim.errorCode,
    errorMessage: claim.errorMessage,
  };
  if (!Object.isFrozen(claim)) return identity;
  Object.freeze(identity);
  identities.set(claim, identity);
  return identity;
}
