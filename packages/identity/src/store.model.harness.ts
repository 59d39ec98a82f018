// The model-based store test's state: the world, the reference model, the writers (each a
// slot on one of three store instances, as three watcher processes would be) and the stores.
// Each command runs a group of writers' ops (one op, or several writers at once), feeds the
// observed outcomes to the model, and then looks up every address and compares.
import { IdentityError } from './errors.js';
import { tryNormalizeIp } from './ip.js';
import type { PodRecord } from './model.js';
import type { IdentityStore, IdentityWriter } from './store.js';
import type { Interleaver, Schedule } from './store.model.interleave.js';
import {
  applyGroup,
  clusterModel,
  describeModel,
  lookupKey,
  type ModelActor,
  type ModelOp,
  type Outcome,
  type StoreModel,
} from './store.model.js';
import { type CheckMode, exactness, judgeLookup, worldAnswer } from './store.model.oracle.js';
import { CLUSTERS, LOOKUP_IPS, World } from './store.model.world.js';

export interface ModelBackend {
  /** A store on `keyPrefix`; called once per process of a run, all on one prefix. */
  open(keyPrefix: string): Promise<IdentityStore>;
  /** Makes the heartbeats written so far visible to `reader`. */
  sync(reader: IdentityStore): Promise<void>;
  /** Lets `ms` pass (a heartbeat's TTL run out). */
  elapse(ms: number): Promise<void>;
  interleaver: Interleaver;
}

export const PROCESSES = 3;
const LONG_TTL_MS = 600_000;
const SHORT_TTL_MS = 1;
const SHORT_TTL_WAIT_MS = 5;
const LOOKUP_SETS: ReadonlyArray<readonly string[]> = [['a'], ['b'], ['a', 'b']];

export type DeliverMode = 'next' | 'all' | 'skip' | 'dup' | 'late';
/** An op as commands generate it; resolved against the world when the command runs. */
export type OpSpec =
  | { kind: 'fence'; delta: -1 | 0 | 1 }
  | { kind: 'deliver'; mode: DeliverMode; k: number; respell: boolean }
  /** A complete listing `back` events before now (0: the world as it is). */
  | { kind: 'reconcile'; back: number }
  | { kind: 'heartbeat'; short: boolean };
/** A writer slot, or the one holding the cluster's stored epoch. */
export type SlotRef = number | 'current';

interface Slot {
  proc: number;
  writer: IdentityWriter;
  epochs: Map<string, number>;
  /** The next history index of each cluster this writer's watch delivers. */
  cursor: Map<string, number>;
}

interface PlannedOp {
  model: ModelOp;
  text: string;
  exec(slot: Slot): Promise<Outcome>;
}

interface PlannedActor {
  slot: number;
  ops: PlannedOp[];
}

export type { CheckMode };

export class ModelFailure extends Error {
  override readonly name = 'ModelFailure';
}

/** Another spelling of each address, as a pod listing or a dual-stack socket may give it. */
function respell(ip: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return `::ffff:${ip}`;
  return ip.toUpperCase().replace('::', ':0::');
}

/** What runs exercised, summed over a suite (STORE_MODEL_STATS=1 prints it). */
export const coverage = {
  runs: 0,
  groups: 0,
  concurrent: 0,
  crashes: 0,
  fenced: 0,
  lookups: 0,
  identities: 0,
  ambiguous: 0,
  stale: 0,
  uncertain: 0,
  exact: 0,
};

export class Harness {
  readonly world = new World();
  model: StoreModel = new Map();
  private readonly slots: Slot[];
  /** Clusters whose store must equal the world exactly (after a complete current reconcile). */
  private readonly exact = new Set<string>();
  private readonly log: string[] = [];

  private constructor(
    private readonly stores: IdentityStore[],
    private readonly backend: ModelBackend,
    private readonly check: CheckMode,
  ) {
    this.slots = stores.map((store, proc) => ({ proc, writer: store, epochs: new Map(), cursor: new Map() }));
  }

  static async open(backend: ModelBackend, keyPrefix: string, check: CheckMode = 'exact'): Promise<Harness> {
    const stores: IdentityStore[] = [];
    try {
      for (let i = 0; i < PROCESSES; i++) stores.push(await backend.open(keyPrefix));
      const harness = new Harness(stores, backend, check);
      await harness.start();
      coverage.runs++;
      return harness;
    } catch (err) {
      await Promise.all([...new Set(stores)].map((s) => s.close()));
      throw err;
    }
  }

  /** Both clusters start with a live heartbeat (of unfenced writers), as watchers keep one. */
  private async start(): Promise<void> {
    for (const c of CLUSTERS) await this.sequential(0, c, { kind: 'heartbeat', short: false });
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.stores)].map((s) => s.close()));
  }

  // --- commands ------------------------------------------------------------------------

  async changeWorld(cluster: string, change: (w: World) => string | null): Promise<void> {
    const done = change(this.world);
    this.note(done ?? `(world: no change in ${cluster})`);
    if (done !== null) this.exact.delete(cluster);
    await this.checkLookups();
  }

  /** One op of one writer. */
  async sequential(ref: SlotRef, cluster: string, spec: OpSpec): Promise<void> {
    const slot = this.slotOf(ref, cluster);
    await this.runGroup([{ slot, ops: this.plan(slot, cluster, spec) }], { segments: [] });
  }

  /**
   * A handover racing the old writer: the cluster's current writer runs `oldOps` while
   * another slot fences the next epoch, reconciles a listing `back` events old, then `tail`.
   */
  async handover(
    cluster: string,
    other: number,
    oldOps: readonly OpSpec[],
    back: number,
    tail: readonly OpSpec[],
    schedule: Schedule,
  ): Promise<void> {
    const old = this.slotOf('current', cluster);
    const next = (old + 1 + (other % (PROCESSES - 1))) % PROCESSES;
    const oldPlan = oldOps.flatMap((s) => this.plan(old, cluster, s));
    const epoch = clusterModel(this.model, cluster).epoch + 1;
    const newPlan = [
      this.fenceOp(cluster, epoch),
      ...this.plan(next, cluster, { kind: 'reconcile', back }),
      ...tail.flatMap((s) => this.plan(next, cluster, s)),
    ];
    await this.runGroup(
      [
        { slot: old, ops: oldPlan },
        { slot: next, ops: newPlan },
      ],
      schedule,
    );
  }

  /** Writers of consecutive slots from `first`, each running its ops, all at once. */
  async race(cluster: string, first: SlotRef, actors: ReadonlyArray<readonly OpSpec[]>, schedule: Schedule) {
    const base = this.slotOf(first, cluster);
    const planned = actors.map((specs, i) => {
      const slot = (base + i) % PROCESSES;
      return { slot, ops: specs.flatMap((s) => this.plan(slot, cluster, s)) };
    });
    await this.runGroup(planned, schedule);
  }

  // --- planning ------------------------------------------------------------------------

  private slotOf(ref: SlotRef, cluster: string): number {
    if (ref !== 'current') return ref % PROCESSES;
    const epoch = clusterModel(this.model, cluster).epoch;
    const holder = this.slots.findIndex((s) => (s.epochs.get(cluster) ?? 0) === epoch);
    return Math.max(0, holder);
  }

  private fenceOp(cluster: string, epoch: number): PlannedOp {
    return {
      model: { kind: 'fence', cluster, epoch },
      text: `fence ${cluster} ${epoch}`,
      exec: async (slot) => {
        const result = await slot.writer.fence(cluster, epoch);
        if (!result.ok) return { kind: 'refused', epoch: result.epoch };
        slot.writer = result.writer;
        slot.epochs.set(cluster, epoch);
        return { kind: 'ok' };
      },
    };
  }

  /** Resolves `spec` for slot `index` against the world now (moving its watch cursor). */
  private plan(index: number, cluster: string, spec: OpSpec): PlannedOp[] {
    const slot = this.slots[index]!;
    const history = this.world.history(cluster);
    const cursor = slot.cursor.get(cluster) ?? 0;
    switch (spec.kind) {
      case 'fence':
        return [this.fenceOp(cluster, Math.max(1, clusterModel(this.model, cluster).epoch + spec.delta))];
      case 'heartbeat': {
        const ttl = spec.short ? SHORT_TTL_MS : LONG_TTL_MS;
        return [
          {
            model: { kind: 'heartbeat', cluster, fresh: !spec.short },
            text: `heartbeat ${cluster} ${spec.short ? 'short' : 'long'}`,
            exec: async (s) => {
              await s.writer.heartbeat(cluster, ttl);
              return { kind: 'ok' };
            },
          },
        ];
      }
      case 'reconcile': {
        const listing = this.world.listing(cluster, spec.back);
        slot.cursor.set(cluster, listing.at);
        const { records, listingVersion } = listing;
        return [
          {
            model: { kind: 'reconcile', cluster, records, listingVersion },
            text: `reconcile ${cluster} [${records.map((r) => `${r.uid}@${r.resourceVersion}`).join(' ')}] @${listingVersion}`,
            exec: async (s) => {
              const stats = await s.writer.reconcile(cluster, records, { listingVersion });
              if (stats.claimed !== records.length) {
                throw new ModelFailure(`reconcile claimed ${stats.claimed} of ${records.length} records`);
              }
              return { kind: 'ok' };
            },
          },
        ];
      }
      case 'deliver': {
        let indexes: number[];
        switch (spec.mode) {
          case 'next':
            indexes = cursor < history.length ? [cursor] : [];
            slot.cursor.set(cluster, Math.min(history.length, cursor + 1));
            break;
          case 'all':
            indexes = history.map((_, i) => i).slice(cursor);
            slot.cursor.set(cluster, history.length);
            break;
          case 'skip':
            slot.cursor.set(cluster, Math.min(history.length, cursor + 1));
            return [];
          case 'dup':
            indexes = cursor > 0 ? [cursor - 1] : [];
            break;
          case 'late':
            indexes = cursor > 0 ? [Math.max(0, cursor - 1 - spec.k)] : [];
            break;
        }
        return indexes.map((i) => this.eventOp(cluster, i, spec.respell));
      }
    }
  }

  private eventOp(cluster: string, index: number, respelled: boolean): PlannedOp {
    const event = this.world.history(cluster)[index]!;
    if (event.type === 'delete') {
      const { uid, rv } = event;
      return {
        model: { kind: 'release', cluster, uid, rv },
        text: `release ${cluster}/${uid}@${rv}`,
        exec: async (s) => {
          await s.writer.release(cluster, uid, rv);
          return { kind: 'ok' };
        },
      };
    }
    const record: PodRecord = respelled
      ? { ...event.record, ips: event.record.ips.map(respell) }
      : event.record;
    return {
      model: { kind: 'claim', cluster, record },
      text: `claim ${cluster}/${record.uid}@${record.resourceVersion} [${record.ips.join(',')}]`,
      exec: async (s) => {
        await s.writer.claim(cluster, record);
        return { kind: 'ok' };
      },
    };
  }

  // --- running and checking ----------------------------------------------------------

  private async runGroup(actors: readonly PlannedActor[], order: Schedule): Promise<void> {
    // A writer dies only outside a fence: a fence's effect must be known (the epoch register).
    const victim = order.crash && actors[order.crash.actor % actors.length];
    const schedule =
      victim?.ops.some((op) => op.model.kind === 'fence') === true ? { segments: order.segments } : order;
    const outcomes: Outcome[][] = actors.map((a) => a.ops.map((): Outcome => ({ kind: 'not-run' })));
    const started = actors.map(() => -1);
    const errors: unknown[] = [];
    const before = actors.map((a) => new Map(this.slots[a.slot]!.epochs));
    const result = await this.backend.interleaver.interleave(
      actors.map((a, i) => ({
        name: `s${a.slot}`,
        run: async () => {
          for (const [j, op] of a.ops.entries()) {
            started[i] = j;
            try {
              outcomes[i]![j] = await op.exec(this.slots[a.slot]!);
            } catch (err) {
              if (err instanceof IdentityError && err.code === 'fenced') {
                outcomes[i]![j] = { kind: 'fenced' };
              } else {
                errors.push(err);
                return;
              }
            }
          }
        },
      })),
      schedule,
    );
    result.crashed.forEach((crashed, i) => {
      if (!crashed) return;
      const j = started[i]!;
      if (j >= 0 && outcomes[i]![j]!.kind === 'not-run') outcomes[i]![j] = { kind: 'crashed' };
      // The process restarts: an unfenced writer again, watching from where it was.
      const slot = this.slots[actors[i]!.slot]!;
      slot.writer = this.stores[slot.proc]!;
      slot.epochs = new Map();
    });
    const text = actors
      .map((a, i) => {
        const epochs = [...before[i]!].map(([c, e]) => `${c}:${e}`).join(',');
        const ops = a.ops.map((op, j) => `${op.text} -> ${outcomes[i]![j]!.kind}`).join('; ');
        return `s${a.slot}{${epochs}} [${ops || 'nothing'}]${result.crashed[i] ? ' CRASHED' : ''}`;
      })
      .join(' || ');
    coverage.groups++;
    if (actors.length > 1) coverage.concurrent++;
    coverage.crashes += result.crashed.filter(Boolean).length;
    coverage.fenced += outcomes.flat().filter((o) => o.kind === 'fenced').length;
    this.note(text + (result.trace.length > 0 ? `\n      order: ${result.trace.join(', ')}` : ''));
    if (errors.length > 0) this.fail(`a write failed: ${String(errors[0])}`);

    const modelActors: ModelActor[] = actors.map((a, i) => ({
      epochs: before[i]!,
      ops: a.ops.map((op, j) => ({ op: op.model, outcome: outcomes[i]![j]! })),
    }));
    try {
      this.model = applyGroup(this.model, modelActors);
    } catch (err) {
      this.fail(`the store's outcomes are impossible: ${(err as Error).message}`);
    }
    for (const c of CLUSTERS) {
      const effect = exactness(c, modelActors, this.world.listing(c).listingVersion);
      if (effect === 'exact') this.exact.add(c);
      if (effect === 'touched') this.exact.delete(c);
    }
    const short = actors.some((a, i) =>
      a.ops.some(
        (op, j) => op.model.kind === 'heartbeat' && !op.model.fresh && outcomes[i]![j]!.kind !== 'not-run',
      ),
    );
    if (short) await this.backend.elapse(SHORT_TTL_WAIT_MS);
    await this.checkLookups();
  }

  private async checkLookups(): Promise<void> {
    const reader = this.stores[0]!;
    await this.backend.sync(reader);
    const problems: string[] = [];
    for (const ip of LOOKUP_IPS) {
      const canonical = tryNormalizeIp(ip)!;
      for (const clusters of LOOKUP_SETS) {
        const got = lookupKey(await reader.lookup(ip, clusters));
        const exact = clusters.every((c) => this.exact.has(c))
          ? worldAnswer(this.world, this.model, canonical, clusters)
          : undefined;
        const where = `lookup(${ip}, [${clusters.join(',')}])`;
        const verdict = judgeLookup(this.model, canonical, clusters, got, exact, this.check, where);
        problems.push(...verdict.problems);
        coverage.lookups++;
        if (got.startsWith('ok:')) coverage.identities++;
        if (got === 'ambiguous') coverage.ambiguous++;
        if (got === 'stale_cluster') coverage.stale++;
        if (verdict.uncertain) coverage.uncertain++;
        if (exact !== undefined) coverage.exact++;
      }
    }
    if (problems.length > 0) this.fail(problems.join('\n'));
  }

  private note(line: string): void {
    this.log.push(`  ${String(this.log.length + 1).padStart(2)}. ${line}`);
  }

  private fail(message: string): never {
    throw new ModelFailure(
      `${message}\n\nmodel now:\n${describeModel(this.model)}\n\nthis run (commands as run):\n${this.log.join('\n')}`,
    );
  }
}
