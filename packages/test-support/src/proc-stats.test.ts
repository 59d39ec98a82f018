import { describe, expect, it } from 'vitest';
import { readProcStats, slope } from './proc-stats.js';

describe('slope', () => {
  it('is the least-squares slope, 0 without two x values', () => {
    expect(slope([])).toBe(0);
    expect(slope([{ x: 1, y: 5 }])).toBe(0);
    expect(
      slope([
        { x: 1, y: 5 },
        { x: 1, y: 7 },
      ]),
    ).toBe(0);
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })))).toBeCloseTo(2, 10);
    // Noise around a flat line stays near 0.
    expect(Math.abs(slope([0, 1, 2, 3, 4, 5].map((x) => ({ x, y: 10 + (x % 2 ? 1 : -1) }))))).toBeLessThan(
      0.3,
    );
  });
});

describe('readProcStats', () => {
  it.skipIf(process.platform !== 'linux')('reads this process: RSS in KiB and open descriptors', () => {
    const stats = readProcStats(process.pid);
    expect(stats).not.toBeNull();
    expect(stats!.rssKb).toBeGreaterThan(1024);
    expect(stats!.fds).toBeGreaterThan(2);
  });

  it('is null for a process that does not exist', () => {
    expect(readProcStats(2 ** 22 + 7)).toBeNull();
  });
});
