// Connections that arrive together from one IP share one identity lookup: a lookup sent less
// than `windowMs` ago (in flight or answered) answers the next connection from that IP too.
// So a burst of connections from one pod costs one store round trip, and the answer a
// connection gets was read at most `windowMs` before it arrived (a bound far below the
// watcher's own event-to-store latency). windowMs 0: every connection its own lookup.
import type { LookupResult } from '@podgate/identity';

interface Entry {
  sentAt: number;
  result: Promise<LookupResult>;
}

export interface SharedLookups {
  lookup(ip: string): Promise<LookupResult>;
  /** Lookups sent to the store / answered from a shared one, since start. */
  readonly stats: { sent: number; shared: number };
  /** IPs remembered now. */
  size(): number;
}

/** Entries kept before expired ones are swept (one sweep per this many inserts). */
const SWEEP_EVERY = 1024;

export function sharedLookups(
  lookup: (ip: string) => Promise<LookupResult>,
  windowMs: number,
  now: () => number,
): SharedLookups {
  const stats = { sent: 0, shared: 0 };
  if (windowMs <= 0) {
    return {
      stats,
      size: () => 0,
      lookup: (ip) => {
        stats.sent++;
        return lookup(ip);
      },
    };
  }
  const recent = new Map<string, Entry>();
  let inserts = 0;
  return {
    stats,
    size: () => recent.size,
    lookup(ip) {
      const t = now();
      const entry = recent.get(ip);
      if (entry !== undefined && t - entry.sentAt < windowMs) {
        stats.shared++;
        return entry.result;
      }
      stats.sent++;
      const result = lookup(ip);
      recent.set(ip, { sentAt: t, result });
      if (++inserts % SWEEP_EVERY === 0) {
        for (const [key, e] of recent) if (t - e.sentAt >= windowMs) recent.delete(key);
      }
      return result;
    },
  };
}
