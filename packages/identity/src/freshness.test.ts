import fc from 'fast-check';
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

describe('FreshnessTracker: a read that never comes back', () => {
  it('holds later refreshes for one refresh interval at most; their own read is applied', async () => {
    let calls = 0;
    const tracker = new FreshnessTracker({
      now: () => 0,
      refreshMs: 50,
      readTtls: (clusters) => {
        calls++;
        // The first refresh's read went out on a connection that died: no answer for seconds.
        if (calls === 2) return new Promise(() => {});
        return Promise.resolve(
          new Map(clusters.map((c) => [c, { ttlMs: calls === 1 ? -2 : 30_000, written: true }])),
        );
      },
    });
    await tracker.track(['c']);
    expect(tracker.isFresh('c')).toBe(false);
    const stuck = tracker.refresh();
    expect(tracker.refresh()).toBe(stuck); // shared while it may still answer
    await stuck; // released after the interval, unanswered
    expect(calls).toBe(2);
    await tracker.refresh(); // a read of its own
    expect(calls).toBe(3);
    expect(tracker.isFresh('c')).toBe(true);
  });
});

// The bound a reader promises (and the reliability suite relies on): it never trusts a
// cluster past the moment its heartbeat key expires in the store, however late its reads are
// sent, answered or applied, and in whatever order overlapping reads come back. Reads are
// modelled in three steps: sent (the tracker takes its local time), run by the store (which
// answers with the key's remaining TTL then), and applied (the answer reaches the tracker).
describe('FreshnessTracker never outlasts the heartbeat key', () => {
  type Step =
    | { kind: 'wait'; ms: number }
    | { kind: 'beat' }
    | { kind: 'send'; own: boolean }
    | { kind: 'run'; pick: number }
    | { kind: 'apply'; pick: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 4_000 }) }),
    fc.record({ kind: fc.constant('beat' as const) }),
    fc.record({ kind: fc.constant('send' as const), own: fc.boolean() }),
    fc.record({ kind: fc.constant('run' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('apply' as const), pick: fc.nat() }),
  );

  it('fresh at t only while a heartbeat written by t is still alive in the store at t', async () => {
    await fc.assert(
      // One TTL per run: a watcher writes every heartbeat with its configured TTL.
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(step, { maxLength: 40 }),
        async (ttlMs, steps) => {
          let now = 0;
          /** The key's expiry in the store (-inf: none). */
          let expiresAt = Number.NEGATIVE_INFINITY;
          const sent: Array<(ttl: number) => void> = [];
          const ran: Array<() => void> = [];
          const tracker = new FreshnessTracker({
            now: () => now,
            refreshMs: 60_000,
            readTtls: (clusters) =>
              new Promise((resolve) => {
                sent.push((ttlMs) => resolve(new Map(clusters.map((c) => [c, { ttlMs, written: true }]))));
              }),
          });
          const tracking = tracker.track(['c']);
          sent.shift()!(-2);
          await tracking;
          const inFlight: Promise<void>[] = [];
          for (const s of steps) {
            if (s.kind === 'wait') now += s.ms;
            else if (s.kind === 'beat') expiresAt = now + ttlMs;
            else if (s.kind === 'send') inFlight.push(s.own ? tracker.readNow() : tracker.refresh());
            else if (s.kind === 'run' && sent.length > 0) {
              const answer = sent.splice(s.pick % sent.length, 1)[0]!;
              // PTTL as Redis answers it: the time left, or -2 once the key is gone.
              const ttl = expiresAt > now ? expiresAt - now : -2;
              ran.push(() => answer(ttl));
            } else if (s.kind === 'apply' && ran.length > 0) {
              ran.splice(s.pick % ran.length, 1)[0]!();
              await Promise.resolve();
              await Promise.resolve();
            }
            if (tracker.isFresh('c')) expect(expiresAt).toBeGreaterThan(now);
          }
          for (const answer of ran) answer();
          for (const answer of sent) answer(-2);
          await Promise.all(inFlight);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
