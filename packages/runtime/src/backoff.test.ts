import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const policy = { baseMs: 100, capMs: 2_000 };

describe('backoffDelay', () => {
  it('grows exponentially up to the cap', () => {
    const max = (n: number) => backoffDelay(n, policy, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6, 50].map(max)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('is jittered, and never below half the base', () => {
    const delays = [0, 0.25, 0.5, 0.75].map((r) => backoffDelay(4, policy, () => r));
    expect(new Set(delays).size).toBe(4);
    expect(Math.min(...delays)).toBe(50);
  });
});
