// Runs a few actors (writers) concurrently, in an order the test chooses. With Redis, the
// order of their commands decides the outcome, and real sockets decide it by timing, so a
// seed would not replay. The gate below holds every ioredis command an actor sends and
// releases one at a time, in an order given by the schedule: the same seed gives the same
// interleaving, and shrinking a schedule shrinks the interleaving. It works on the ioredis
// classes (Redis, Cluster), not on a store's internals, so it holds whatever store is built on
// them. Commands are real and reach a real server; only their start is delayed. A crash
// abandons an actor's commands not sent yet, as a process dying there would.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';

export interface Actor {
  name: string;
  run(): Promise<void>;
}

export interface Schedule {
  /** Run `actor` (modulo the actors) for `steps` commands, then the next segment; then FIFO. */
  segments: ReadonlyArray<{ actor: number; steps: number }>;
  /** The actor dies once `afterOwn` of its own commands have been released. */
  crash?: { actor: number; afterOwn: number };
}

export interface Interleaving {
  crashed: boolean[];
  /** The commands in the order they ran, `actor:command` (empty without a gate). */
  trace: string[];
}

export interface Interleaver {
  interleave(actors: readonly Actor[], schedule: Schedule): Promise<Interleaving>;
}

/** No gate (the memory store): the actors' promises interleave as the event loop runs them. */
export const plainInterleaver: Interleaver = {
  async interleave(actors) {
    await Promise.all(actors.map((a) => a.run()));
    return { crashed: actors.map(() => false), trace: [] };
  },
};

interface GatedCommand {
  name?: string;
  args?: unknown[];
  promise: Promise<unknown>;
  resolve: (value: unknown) => unknown;
  reject: (err: unknown) => unknown;
}
type SendCommand = (this: unknown, command: GatedCommand, ...rest: unknown[]) => unknown;
interface Sender {
  sendCommand: SendCommand;
}
interface ActorContext {
  index: number;
  name: string;
  crashed: boolean;
  done: boolean;
}

const STUCK_MS = 10_000;

export class CommandGate implements Interleaver {
  private readonly context = new AsyncLocalStorage<ActorContext>();
  private held: Array<{ actor: ActorContext; label: string; send: () => void }> = [];
  /** Released commands without a reply yet. */
  private inflight = 0;
  private onIdle: (() => void) | undefined;
  /** Released (or passed-through) commands: Cluster hands them to a node's Redis again. */
  private readonly passed = new WeakSet<object>();
  private restore: (() => void) | undefined;

  /** Patches Redis and Cluster `sendCommand` (commands sent outside `interleave` pass). */
  install(): void {
    if (this.restore !== undefined) return;
    const protos = [Redis.prototype, Cluster.prototype] as unknown as Sender[];
    const originals = protos.map((p) => p.sendCommand);
    const gate = this;
    protos.forEach((proto, i) => {
      const original = originals[i]!;
      proto.sendCommand = function (this: unknown, command: GatedCommand, ...rest: unknown[]) {
        return gate.intercept(this, original, command, rest);
      };
    });
    this.restore = () => {
      protos.forEach((proto, i) => {
        proto.sendCommand = originals[i]!;
      });
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
  }

  /**
   * For a store that sends no Redis commands (the memory store, wrapped): holds the calling
   * actor until the schedule releases it, like a command. Outside `interleave`, at once.
   */
  hold(label: string): Promise<void> {
    const actor = this.context.getStore();
    if (actor === undefined) return Promise.resolve();
    if (actor.crashed) return new Promise(() => {});
    return new Promise((resolve) => {
      this.held.push({ actor, label: `${actor.name}:${label}`, send: resolve });
    });
  }

  private intercept(target: unknown, original: SendCommand, command: GatedCommand, rest: unknown[]): unknown {
    const actor = this.context.getStore();
    if (actor === undefined || this.passed.has(command)) return original.call(target, command, ...rest);
    if (actor.crashed) return command.promise; // never sent: the process is gone
    const send = () => {
      this.passed.add(command);
      this.track(command);
      original.call(target, command, ...rest);
    };
    // A pipeline writes its commands with a stream of its own, together: not held.
    if (rest[0] !== undefined) {
      send();
      return command.promise;
    }
    this.held.push({ actor, label: `${actor.name}:${describe(command)}`, send });
    return command.promise;
  }

  private track(command: GatedCommand): void {
    this.inflight++;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      this.inflight--;
      if (this.inflight === 0) this.onIdle?.();
    };
    const { resolve, reject } = command;
    command.resolve = (value) => {
      done();
      return resolve(value);
    };
    command.reject = (err) => {
      done();
      return reject(err);
    };
  }

  /**
   * The next command: the wanted actor's (else the first held's actor's), the least by label
   * among those it holds. Commands an actor holds at once were sent concurrently by the store
   * (Promise.all, a batch per scanned page), so any order among them is one its code allows;
   * by label, the order does not depend on Redis's iteration order of a set (SSCAN), which
   * a server randomizes per process, so a seed replays on another server too.
   */
  private take(wanted: number): { actor: ActorContext; label: string; send: () => void } {
    const actor = this.held.some((h) => h.actor.index === wanted) ? wanted : this.held[0]!.actor.index;
    let best = -1;
    this.held.forEach((h, i) => {
      if (h.actor.index !== actor) return;
      if (best < 0 || h.label < this.held[best]!.label) best = i;
    });
    return this.held.splice(best, 1)[0]!;
  }

  /** Until no released command awaits its reply and the actors have reacted to the last. */
  private async quiesce(): Promise<void> {
    for (;;) {
      if (this.inflight > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('a released command got no reply')), STUCK_MS);
          this.onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.onIdle = undefined;
      }
      await nextTurn();
      await nextTurn();
      if (this.inflight === 0) return;
    }
  }

  async interleave(actors: readonly Actor[], schedule: Schedule): Promise<Interleaving> {
    const contexts: ActorContext[] = actors.map((a, index) => ({
      index,
      name: a.name,
      crashed: false,
      done: false,
    }));
    const runs = actors.map((a, i) =>
      this.context.run(contexts[i]!, () =>
        a.run().finally(() => {
          contexts[i]!.done = true;
        }),
      ),
    );
    const trace: string[] = [];
    const released = actors.map(() => 0);
    let segment = 0;
    let left = schedule.segments[0]?.steps ?? 0;
    let waitedSince: number | undefined;
    for (;;) {
      await this.quiesce();
      const crash = schedule.crash;
      const victim = crash && contexts[crash.actor % contexts.length]!;
      if (victim && released[victim.index] === crash.afterOwn) {
        if (!victim.done && !victim.crashed) {
          victim.crashed = true;
          this.held = this.held.filter((h) => h.actor !== victim);
          trace.push(`${victim.name}:CRASH`);
        }
      }
      if (contexts.every((c) => c.done || c.crashed)) break;
      if (this.held.length === 0) {
        // An actor waits on something other than Redis (a timer): let it run.
        waitedSince ??= Date.now();
        if (Date.now() - waitedSince > STUCK_MS) throw new Error('actors neither finish nor send a command');
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      waitedSince = undefined;
      const wanted =
        segment < schedule.segments.length ? schedule.segments[segment]!.actor % actors.length : -1;
      const next = this.take(wanted);
      trace.push(next.label);
      released[next.actor.index]!++;
      next.send();
      if (segment < schedule.segments.length && --left <= 0) {
        segment++;
        left = schedule.segments[segment]?.steps ?? 0;
      }
    }
    // The crashed actors never settle; the others have.
    await Promise.all(runs.filter((_, i) => !contexts[i]!.crashed));
    return { crashed: contexts.map((c) => c.crashed), trace };
  }
}

function describe(command: GatedCommand): string {
  const name = (command.name ?? '?').toUpperCase();
  const args = (command.args ?? []).map((a) =>
    typeof a === 'string' || typeof a === 'number' ? String(a) : '',
  );
  // Scripts: EVALSHA <sha> <numkeys> <key>... <arg>...: the first key and first arg name it.
  const shown =
    name === 'EVALSHA' || name === 'EVAL' ? [args[2], args[2 + Number(args[1])]] : args.slice(0, 1);
  // Keys without their test prefix (`sm12:pods:{a}` -> `pods:{a}`); no clock values.
  const parts = shown.map((a) => (a ?? '').replace(/^[^:{]*:(?=[a-z]+:\{)/, '').replace(/^\d{12,}$/, ''));
  return [name, ...parts].join(' ').trim();
}
