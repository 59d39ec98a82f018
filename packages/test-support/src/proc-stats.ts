// A process's resident memory and open descriptors, read from /proc (Linux), and the
// least-squares slope of a series, for tests that check nothing grows without bound.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStats {
  /** VmRSS, in KiB. */
  rssKb: number;
  /** Entries in /proc/PID/fd. */
  fds: number;
}

/** Null when the process is gone (or /proc is not there). */
export function readProcStats(pid: number): ProcStats | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    if (rss === null) return null;
    return { rssKb: Number(rss[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

/** The slope of the least-squares line through `points` (y per unit of x); 0 for fewer than 2 x values. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
