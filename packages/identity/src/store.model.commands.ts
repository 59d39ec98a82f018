// The commands of the model-based store test, as fast-check arbitraries: changes to the
// world, one writer's op, and groups of writers at once (a handover racing the old leader,
// or any two or three writers). Each command prints as it was generated, so a shrunk
// counterexample reads as a script; the run's report adds what each step resolved to.
import fc from 'fast-check';
import type { DeliverMode, Harness, OpSpec, SlotRef } from './store.model.harness.js';
import type { Schedule } from './store.model.interleave.js';
import type { IpChoice } from './store.model.world.js';

type Command = fc.AsyncCommand<Harness, Harness>;

class Step implements Command {
  constructor(
    private readonly text: string,
    private readonly body: (h: Harness) => Promise<void>,
  ) {}
  check(): boolean {
    return true;
  }
  run(_model: Harness, h: Harness): Promise<void> {
    return this.body(h);
  }
  toString(): string {
    return this.text;
  }
}

const weighted = <T>(...items: Array<[number, fc.Arbitrary<T>]>) =>
  fc.oneof(...items.map(([weight, arbitrary]) => ({ weight, arbitrary })));
const rarely = weighted([4, fc.constant(false)], [1, fc.constant(true)]);
const cluster = fc.constantFrom('a', 'b');
const pick = fc.nat({ max: 7 });
const slotRef: fc.Arbitrary<SlotRef> = weighted<SlotRef>(
  [4, fc.constant('current')],
  [1, fc.nat({ max: 2 })],
);
const ipChoice: fc.Arbitrary<IpChoice> = fc.record({ pick: fc.nat({ max: 9 }), dual: rarely, reuse: rarely });
const ipText = (c: IpChoice) => `ip#${c.pick}${c.dual ? '+v6' : ''}${c.reuse ? ' reuse' : ''}`;

// --- the world -------------------------------------------------------------------------

const worldCommand: fc.Arbitrary<Command> = weighted<Command>(
  [
    6,
    fc
      .tuple(cluster, ipChoice, rarely)
      .map(
        ([c, ip, big]) =>
          new Step(`create(${c}, ${ipText(ip)}${big ? ', oversized' : ''})`, (h) =>
            h.changeWorld(c, (w) => w.create(c, ip, big)),
          ),
      ),
  ],
  [
    3,
    fc
      .tuple(cluster, pick)
      .map(([c, p]) => new Step(`delete(${c}, #${p})`, (h) => h.changeWorld(c, (w) => w.delete(c, p)))),
  ],
  [
    1,
    fc
      .tuple(cluster, pick, fc.constantFrom('Succeeded' as const, 'Failed' as const))
      .map(
        ([c, p, phase]) =>
          new Step(`${phase}(${c}, #${p})`, (h) => h.changeWorld(c, (w) => w.finish(c, p, phase))),
      ),
  ],
  [
    1,
    fc
      .tuple(cluster, pick, ipChoice)
      .map(
        ([c, p, ip]) =>
          new Step(`move(${c}, #${p}, ${ipText(ip)})`, (h) => h.changeWorld(c, (w) => w.move(c, p, ip))),
      ),
  ],
  [
    1,
    fc
      .tuple(cluster, pick)
      .map(
        ([c, p]) =>
          new Step(`hostNetwork(${c}, #${p})`, (h) => h.changeWorld(c, (w) => w.flipHostNetwork(c, p))),
      ),
  ],
  [
    1,
    fc
      .tuple(cluster, pick)
      .map(([c, p]) => new Step(`annotate(${c}, #${p})`, (h) => h.changeWorld(c, (w) => w.annotate(c, p)))),
  ],
  [
    1,
    fc
      .tuple(cluster, pick, fc.boolean())
      .map(
        ([c, p, same]) =>
          new Step(`recreate(${c}, #${p}${same ? ', same IPs' : ''})`, (h) =>
            h.changeWorld(c, (w) => w.recreate(c, p, same)),
          ),
      ),
  ],
);

// --- writers -----------------------------------------------------------------------------

const mode: fc.Arbitrary<DeliverMode> = weighted<DeliverMode>(
  [5, fc.constant('next')],
  [2, fc.constant('all')],
  [1, fc.constant('skip')],
  [1, fc.constant('dup')],
  [1, fc.constant('late')],
);
const deliver: fc.Arbitrary<OpSpec> = fc
  .record({ mode, k: fc.nat({ max: 3 }), respell: rarely })
  .map((s) => ({ kind: 'deliver', ...s }));
const reconcile: fc.Arbitrary<OpSpec> = weighted([3, fc.constant(0)], [1, fc.nat({ max: 3 })]).map(
  (back) => ({
    kind: 'reconcile',
    back,
  }),
);
const heartbeat: fc.Arbitrary<OpSpec> = rarely.map((short) => ({ kind: 'heartbeat', short }));
const fence: fc.Arbitrary<OpSpec> = weighted<-1 | 0 | 1>(
  [3, fc.constant(1)],
  [1, fc.constant(0)],
  [1, fc.constant(-1)],
).map((delta) => ({ kind: 'fence', delta }));
const writeOp = weighted([6, deliver], [2, reconcile], [2, heartbeat]);
/** A leader's ops while it is deposed: its reconcile racing the new one is where it hurts. */
const deposedOp = weighted([3, deliver], [5, reconcile], [1, heartbeat]);

function opText(spec: OpSpec): string {
  switch (spec.kind) {
    case 'fence':
      return `fence${spec.delta < 0 ? spec.delta : `+${spec.delta}`}`;
    case 'deliver':
      return `${spec.mode === 'late' ? `late-${spec.k}` : spec.mode}${spec.respell ? '~' : ''}`;
    case 'reconcile':
      return spec.back === 0 ? 'reconcile' : `reconcile(listing-${spec.back})`;
    case 'heartbeat':
      return spec.short ? 'hb-short' : 'hb';
  }
}

const schedule: fc.Arbitrary<Schedule> = fc
  .record({
    segments: fc.array(fc.record({ actor: fc.nat({ max: 2 }), steps: fc.integer({ min: 1, max: 6 }) }), {
      maxLength: 12,
    }),
    crash: fc.option(fc.record({ actor: fc.nat({ max: 2 }), afterOwn: fc.nat({ max: 12 }) }), {
      nil: undefined,
      freq: 2,
    }),
  })
  .map(({ segments, crash }) => (crash === undefined ? { segments } : { segments, crash }));

/**
 * `order[oldx3 newx2] crash old@4`: old's next 3 Redis commands run, then new's next 2, then
 * the rest first come first served; old dies once 4 of its own commands have run.
 */
function scheduleText(s: Schedule, names: readonly string[]): string {
  const order = s.segments.map((g) => `${names[g.actor % names.length]}x${g.steps}`).join(' ');
  const crash = s.crash ? ` crash ${names[s.crash.actor % names.length]}@${s.crash.afterOwn}` : '';
  return `order[${order}]${crash}`;
}

const slotText = (ref: SlotRef) => (ref === 'current' ? 'current' : `s${ref}`);

const writerCommand: fc.Arbitrary<Command> = fc
  .tuple(slotRef, cluster, weighted([9, writeOp], [1, fence]))
  .map(
    ([ref, c, spec]) =>
      new Step(`${opText(spec)}(${slotText(ref)}, ${c})`, (h) => h.sequential(ref, c, spec)),
  );

/**
 * The current writer's ops racing a new writer's fence, reconcile and events; `new+N` is the
 * N-th slot after the old writer's.
 */
const handoverCommand: fc.Arbitrary<Command> = fc
  .record({
    c: cluster,
    other: fc.nat({ max: 1 }),
    oldOps: fc.array(deposedOp, { minLength: 1, maxLength: 2 }),
    back: weighted([1, fc.constant(0)], [2, fc.constant(1)], [1, fc.constant(2)]),
    tail: fc.array(weighted([3, deliver], [1, heartbeat]), { maxLength: 2 }),
    order: schedule,
  })
  .map(({ c, other, oldOps, back, tail, order }) => {
    const next = [`fence+1`, opText({ kind: 'reconcile', back }), ...tail.map(opText)];
    const text = `handover(${c}, old [${oldOps.map(opText).join(', ')}] || new+${other + 1} [${next.join(', ')}], ${scheduleText(order, ['old', 'new'])})`;
    return new Step(text, (h) => h.handover(c, other, oldOps, back, tail, order));
  });

/** Two or three writers on consecutive slots, each with its own ops (a fence first, maybe). */
const raceCommand: fc.Arbitrary<Command> = fc
  .record({
    c: cluster,
    first: slotRef,
    actors: fc.array(
      fc.record({
        fenceFirst: fc.option(fence, { nil: undefined, freq: 2 }),
        ops: fc.array(writeOp, { minLength: 1, maxLength: 2 }),
      }),
      { minLength: 2, maxLength: 3 },
    ),
    order: schedule,
  })
  .map(({ c, first, actors, order }) => {
    const specs = actors.map((a) => (a.fenceFirst === undefined ? a.ops : [a.fenceFirst, ...a.ops]));
    const names = specs.map((_, i) => `w${i}`);
    const parts = specs.map((ops, i) => `${names[i]} [${ops.map(opText).join(', ')}]`);
    const text = `race(${c}, from ${slotText(first)}: ${parts.join(' || ')}, ${scheduleText(order, names)})`;
    return new Step(text, (h) => h.race(c, first, specs, order));
  });

/** `replayPath`: the one a counterexample prints, to replay it with its seed and path. */
export function storeModelCommands(
  maxCommands: number,
  replayPath?: string,
): fc.Arbitrary<Iterable<Command>> {
  const any = weighted([35, worldCommand], [25, writerCommand], [25, handoverCommand], [15, raceCommand]);
  return fc.commands([any], {
    maxCommands,
    size: 'max',
    ...(replayPath !== undefined ? { replayPath } : {}),
  });
}
