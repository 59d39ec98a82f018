// One coarse timer for every raw connection's deadlines (idle, connect) instead of a timer per
// socket: arming, re-arming on each chunk and clearing a timer per socket was measurable per
// connection; a chunk here only sets a flag. A deadline fires between its time and one tick
// later, and never before it.
//
// Entries live in an array, each knowing its slot; removing one moves the last into its slot.
// Not a Set: with a long-lived Set, removed connections' entries (and the connection state their
// callbacks hold) survived young-generation collections until a full one, and at 1,000
// connections a second each scavenge became a pause of several ms (a bare raw-handle pipe under
// --trace-gc-nvp, two runs each way: 3.8-5 MB surviving each scavenge with a Set, under 10 KB
// with this; docs/proxy.md, "The latency tail").

export interface WheelEntry {
  /** Set by the owner on activity; the wheel clears it at each tick. */
  active: boolean;
  /** Ticks in a row without activity. */
  quietTicks: number;
  /** Ticks of quiet that end it. */
  limitTicks: number;
  onExpire(): void;
  /** Its slot in the wheel; -1 once removed or expired. */
  slot: number;
}

export interface TimerWheel {
  readonly tickMs: number;
  /** An entry that expires after `ms` with no activity (at least one full tick). */
  add(ms: number, onExpire: () => void): WheelEntry;
  /** Makes `entry` expire after `ms` with no activity from now on, the same rounding as `add`. */
  retime(entry: WheelEntry, ms: number): void;
  remove(entry: WheelEntry): void;
  size(): number;
  stop(): void;
}

export function createTimerWheel(tickMs: number): TimerWheel {
  const entries: WheelEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  // The first tick may come at once: one more tick so that quiet is never shorter than `ms`.
  const ticksFor = (ms: number) => Math.ceil(ms / tickMs) + 1;
  const remove = (entry: WheelEntry) => {
    const slot = entry.slot;
    if (slot < 0 || entries[slot] !== entry) return;
    entry.slot = -1;
    const last = entries.pop()!;
    if (last !== entry) {
      entries[slot] = last;
      last.slot = slot;
    }
  };
  const tick = () => {
    // A callback may remove or add entries (its own connection's, or others'): walk a copy, so
    // an entry is counted once per tick whatever moves, and skip the ones removed meanwhile.
    for (const e of entries.slice()) {
      if (e.slot < 0) continue;
      if (e.active) {
        e.active = false;
        e.quietTicks = 0;
      } else if (++e.quietTicks >= e.limitTicks) {
        remove(e);
        e.onExpire();
      }
    }
    if (entries.length === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    tickMs,
    add(ms, onExpire) {
      const entry: WheelEntry = {
        active: false,
        quietTicks: 0,
        limitTicks: ticksFor(ms),
        onExpire,
        slot: entries.length,
      };
      entries.push(entry);
      if (timer === undefined) {
        timer = setInterval(tick, tickMs);
        timer.unref();
      }
      return entry;
    },
    retime(entry, ms) {
      entry.limitTicks = ticksFor(ms);
      entry.quietTicks = 0;
      entry.active = true;
    },
    remove,
    size: () => entries.length,
    stop() {
      for (const e of entries) e.slot = -1;
      entries.length = 0;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** A tick fine enough for the shortest deadline (a quarter of it), between 10 ms and 1 s. */
export function tickFor(...deadlinesMs: number[]): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(...deadlinesMs) / 4)));
}
