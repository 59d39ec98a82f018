import { describe, expect, it } from 'vitest';
import { FreshnessTracker, type HeartbeatRead } from './freshness.js';

describe('FreshnessTracker', () => {
  it('readNow sends its own read, and an older answer arriving later does not undo it', async () => {
    let ttl = -2; // no heartbeat yet
    const pending: Array<() => void> = [];
    const tracker = new FreshnessTracker({
      now: () => 0,
      refreshMs: 60_000,
      readTtls: (clusters) => {
        const seen = ttl; // what the store holds when the read is sent
        return new Promise<Map<string, HeartbeatRead>>((resolve) => {
          pending.push(() =>
            resolve(new Map(clusters.map((c) => [c, { ttlMs: seen, written: seen !== -2 }]))),
          );
        });
      },
    });
    const tracking = tracker.track(['c']);
    pending.shift()!();
    await tracking;
    expect(tracker.wasWritten('c')).toBe(false);

    const background = tracker.refresh(); // sent before the heartbeat
    ttl = 30_000; // the heartbeat is written
    const mine = tracker.readNow();
    expect(pending).toHaveLength(2); // not shared with the background read
    const [first, second] = pending.splice(0);
    second!();
    await mine;
    expect(tracker.isFresh('c')).toBe(true);
    expect(tracker.wasWritten('c')).toBe(true);
    first!(); // the background read's older answer, late
    await background;
    expect(tracker.isFresh('c')).toBe(true);
  });
});
