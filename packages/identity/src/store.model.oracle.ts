// What the model-based store test expects of one lookup, pure: an answer the reference
// model allows (store.model.ts), the safety rule, and the world's own answer where the store
// must equal the world exactly (after a complete reconcile of the world as it is).
import {
  clusterModel,
  identityKey,
  type ModelActor,
  type ModelOp,
  type Outcome,
  possibleLookups,
  possibleOwners,
  type StoreModel,
} from './store.model.js';
import type { World } from './store.model.world.js';

/**
 * `exact`: every answer must be one the model allows, and equal the world's after a complete
 * reconcile. `safety`: only a served identity is checked (the model may hold it live there;
 * the world's after a complete reconcile), so a store that fails closed somewhere runs on
 * until it serves a wrong identity, if it ever does.
 */
export type CheckMode = 'exact' | 'safety';

/**
 * What a group of writes did to `cluster`'s exactness: nothing (no write to it), made it
 * `exact` (a complete reconcile of `listingVersion`, the world as it is, that no write of the
 * group can have followed: every other write was refused or carried a lower epoch, so if
 * accepted it ran before the fence that deposed it), or `touched` it otherwise.
 */
export function exactness(
  cluster: string,
  actors: readonly ModelActor[],
  listingVersion: string,
): 'untouched' | 'exact' | 'touched' {
  const writes = actors.map((a) => {
    const epochs = new Map(a.epochs);
    const out: Array<{ op: ModelOp; outcome: Outcome; epoch: number }> = [];
    for (const { op, outcome } of a.ops) {
      if (op.cluster !== cluster || op.kind === 'heartbeat') continue;
      if (op.kind === 'fence') {
        if (outcome.kind === 'ok') epochs.set(cluster, op.epoch);
        continue;
      }
      out.push({ op, outcome, epoch: epochs.get(cluster) ?? 0 });
    }
    return out;
  });
  if (writes.every((w) => w.length === 0)) return 'untouched';
  const exact = writes.some((own, i) => {
    const last = own[own.length - 1];
    if (last?.op.kind !== 'reconcile' || last.outcome.kind !== 'ok') return false;
    if (last.op.listingVersion !== listingVersion) return false;
    return writes.every(
      (w, k) =>
        k === i ||
        w.every((x) => x.outcome.kind === 'fenced' || x.outcome.kind === 'not-run' || x.epoch < last.epoch),
    );
  });
  return exact ? 'exact' : 'touched';
}

/** The world's answer for `ip` (canonical) over `clusters`; undefined if freshness is unknown. */
export function worldAnswer(
  world: World,
  model: StoreModel,
  ip: string,
  clusters: readonly string[],
): string | undefined {
  const freshness = clusters.map((c) => clusterModel(model, c).fresh);
  if (freshness.some((f) => f.length !== 1)) return undefined;
  const fresh = clusters.filter((_, i) => freshness[i]![0]);
  const owners = world.owners(ip, fresh);
  if (owners.length > 1) return 'ambiguous';
  const [only] = owners;
  if (only === undefined) return fresh.length < clusters.length ? 'stale_cluster' : 'not_found';
  const { uid, name, namespace, annotations, errorCode, errorMessage } = only.record;
  return identityKey({ cluster: only.cluster, uid, name, namespace, annotations, errorCode, errorMessage });
}

/** The pod an answer (lookupKey form) serves, or null. */
function servedOwner(key: string): { cluster: string; uid: string } | null {
  if (!key.startsWith('ok:')) return null;
  const [cluster, uid] = JSON.parse(key.slice(3)) as string[];
  return { cluster: cluster!, uid: uid! };
}

export interface Judgement {
  problems: string[];
  /** The model allows more than one answer here. */
  uncertain: boolean;
}

/**
 * Judges the answer `got` (lookupKey form) of `lookup(ip, clusters)`. `exact` is the world's
 * answer when the store must equal it. `where` names the lookup in the problems.
 */
export function judgeLookup(
  model: StoreModel,
  ip: string,
  clusters: readonly string[],
  got: string,
  exact: string | undefined,
  check: CheckMode,
  where: string,
): Judgement {
  const allowed = possibleLookups(model, ip, clusters);
  const problems: string[] = [];
  // The safety rule: an identity served must be one the model may hold live on the IP.
  const owner = servedOwner(got);
  const unsafe = owner !== null && !possibleOwners(model, ip, owner.cluster).has(owner.uid);
  if (unsafe || (check === 'exact' && !allowed.has(got))) {
    problems.push(
      `${unsafe ? 'UNSAFE: ' : ''}${where} = ${got}; the model allows ${[...allowed].join(' | ')}`,
    );
  }
  if (exact !== undefined && got !== exact && (check === 'exact' || owner !== null)) {
    problems.push(`${where} = ${got} after a complete reconcile; the world says ${exact}`);
  }
  return { problems, uncertain: allowed.size > 1 };
}
