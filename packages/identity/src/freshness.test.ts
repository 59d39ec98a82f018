import { describe, expect, it } from 'vitest';
import { FreshnessTracker, type HeartbeatRead } from './freshness.js';

describe('FreshnessTracker.refresh', () => {
  it('reads again after a read that began before the call, which may predate a heartbeat', async () => {
    let ttl = -2; // no heartbeat yet
    const reads: Array<() => void> = [];
    const tracker = new FreshnessTracker({
      now: () => 0,
      refreshMs: 60_000,
      readTtls: (clusters) => {
        const seen = ttl; // what the store holds when the read is sent
        return new Promise<Map<string, HeartbeatRead>>((resolve) => {
          reads.push(() => resolve(new Map(clusters.map((c) => [c, { ttlMs: seen, written: seen !== -2 }]))));
        });
      },
    });
    const tracking = tracker.track(['c']);
    reads.shift()!();
    await tracking;

    const background = tracker.refresh(); // sent before the heartbeat
    await new Promise((r) => setTimeout(r, 0));
    expect(reads).toHaveLength(1);
    ttl = 30_000; // the heartbeat is written
    const mine = tracker.refresh();
    const alsoMine = tracker.refresh(); // shares the queued read
    reads.shift()!();
    await background;
    expect(tracker.isFresh('c')).toBe(false);
    expect(tracker.wasWritten('c')).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(reads).toHaveLength(1); // one read queued for both callers
    reads.shift()!();
    await Promise.all([mine, alsoMine]);
    expect(tracker.isFresh('c')).toBe(true);
    expect(tracker.wasWritten('c')).toBe(true);
  });
});
