// One coarse timer for every raw connection's deadlines (idle, connect) instead of a timer per
// socket: arming, re-arming on each chunk and clearing a timer per socket was measurable per
// connection; a chunk here only sets a flag. A deadline fires between its time and one tick
// later, and never before it.

export interface WheelEntry {
  /** Set by the owner on activity; the wheel clears it at each tick. */
  active: boolean;
  /** Ticks in a row without activity. */
  quietTicks: number;
  /** Ticks of quiet that end it. */
  limitTicks: number;
  onExpire(): void;
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
  const entries = new Set<WheelEntry>();
  let timer: NodeJS.Timeout | undefined;
  // The first tick may come at once: one more tick so that quiet is never shorter than `ms`.
  const ticksFor = (ms: number) => Math.ceil(ms / tickMs) + 1;
  const tick = () => {
    for (const e of entries) {
      if (e.active) {
        e.active = false;
        e.quietTicks = 0;
      } else if (++e.quietTicks >= e.limitTicks) {
        entries.delete(e);
        e.onExpire();
      }
    }
    if (entries.size === 0 && timer !== undefined) {
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
      };
      entries.add(entry);
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
    remove(entry) {
      entries.delete(entry);
    },
    size: () => entries.size,
    stop() {
      entries.clear();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** A tick fine enough for the shortest deadline (a quarter of it), between 10 ms and 1 s. */
export function tickFor(...deadlinesMs: number[]): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(...deadlinesMs) / 4)));
}
