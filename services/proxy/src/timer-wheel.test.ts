import { describe, expect, it } from 'vitest';
import { createTimerWheel, tickFor } from './timer-wheel.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('timer wheel', () => {
  it('expires a quiet entry no sooner than its time and within two ticks after it', async () => {
    const wheel = createTimerWheel(20);
    const started = performance.now();
    const expired = await new Promise<number>((resolve) => {
      wheel.add(100, () => resolve(performance.now() - started));
    });
    expect(expired).toBeGreaterThanOrEqual(100);
    // Two ticks of slack, and a loaded machine's late timers.
    expect(expired).toBeLessThan(400);
    expect(wheel.size()).toBe(0);
    wheel.stop();
  });

  it('activity keeps an entry alive; it expires once quiet', async () => {
    const wheel = createTimerWheel(10);
    let expiredAt = 0;
    const started = performance.now();
    const entry = wheel.add(50, () => {
      expiredAt = performance.now() - started;
    });
    for (let i = 0; i < 20; i++) {
      entry.active = true;
      await sleep(10);
    }
    expect(expiredAt).toBe(0);
    await sleep(300);
    expect(expiredAt).toBeGreaterThanOrEqual(200 + 50);
    wheel.stop();
  });

  it('retime: an entry expires after the new time of quiet, counted from the retime', async () => {
    const wheel = createTimerWheel(10);
    let expiredAt = 0;
    const entry = wheel.add(10_000, () => {
      expiredAt = performance.now();
    });
    await sleep(50);
    const retimed = performance.now();
    wheel.retime(entry, 60);
    await sleep(400);
    expect(expiredAt).toBeGreaterThanOrEqual(retimed + 60);
    expect(wheel.size()).toBe(0);
    wheel.stop();
  });

  it('a removed entry never fires, and an empty wheel holds no timer', async () => {
    const wheel = createTimerWheel(10);
    let fired = false;
    const entry = wheel.add(20, () => {
      fired = true;
    });
    wheel.remove(entry);
    await sleep(100);
    expect(fired).toBe(false);
    expect(wheel.size()).toBe(0);
    // One tick with no entries clears the interval: nothing keeps the process alive.
    wheel.add(10, () => {});
    await sleep(100);
    expect(wheel.size()).toBe(0);
    wheel.stop();
  });

  it('a callback that removes and adds entries: each entry counted once a tick, removed ones never fire', async () => {
    const wheel = createTimerWheel(10);
    const fired: string[] = [];
    const others = Array.from({ length: 5 }, (_, i) =>
      wheel.add(30, () => {
        fired.push(`other-${i}`);
      }),
    );
    // Expires first, and removes every other entry and adds a fresh one while the wheel ticks.
    wheel.add(1, () => {
      fired.push('first');
      for (const o of others) wheel.remove(o);
      wheel.add(40, () => fired.push('added'));
    });
    const started = performance.now();
    await sleep(300);
    expect(fired).toEqual(['first', 'added']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(wheel.size()).toBe(0);
    wheel.stop();
  });

  it('ticks a quarter of the shortest deadline, between 10 ms and 1 s', () => {
    expect(tickFor(300, 900_000)).toBe(75);
    expect(tickFor(5_000, 900_000)).toBe(1_000);
    expect(tickFor(1, 100)).toBe(10);
  });
});
