// How late this process's timers fire, moment by moment: a measure of how starved the machine
// is. The deadline checks add the lateness seen around an exchange to their margin, because a
// lookup deadline is a timer too: on a machine whose processes wait a second for a CPU, a
// 200 ms deadline fires a second late, and that is the machine, not the service.
const TICK_MS = 25;
/** Lateness below this is not kept (it is within every margin). */
const KEEP_ABOVE_MS = 10;

export class SchedulerLag {
  private timer: NodeJS.Timeout | undefined;
  private readonly late: Array<{ at: number; ms: number }> = [];
  max = 0;

  start(): void {
    let expected = performance.now() + TICK_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      const ms = now - expected;
      expected = now + TICK_MS;
      if (ms > KEEP_ABOVE_MS) {
        this.late.push({ at: now, ms });
        this.max = Math.max(this.max, ms);
      }
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The largest lateness seen by a tick within [from, to] (a tick reports at its end). */
  maxWithin(from: number, to: number): number {
    let max = 0;
    for (let i = this.late.length - 1; i >= 0; i--) {
      const entry = this.late[i]!;
      if (entry.at < from) break;
      if (entry.at <= to + TICK_MS) max = Math.max(max, entry.ms);
    }
    return max;
  }
}
