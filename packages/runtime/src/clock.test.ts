import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';

describe('systemClock.sleep', () => {
  it('waits about the time asked', async () => {
    const start = Date.now();
    await systemClock.sleep(30);
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
  });

  it('ends early, without error, when its signal aborts (or has aborted)', async () => {
    const controller = new AbortController();
    const start = Date.now();
    const sleeping = systemClock.sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await sleeping;
    expect(Date.now() - start).toBeLessThan(5_000);
    await systemClock.sleep(10_000, controller.signal);
  });
});
