import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonMilliseconds, jsonNumber } from './json-number.js';

const reference = (ms: number) => JSON.stringify(Math.round(ms * 1000) / 1000) ?? 'null';

describe('jsonMilliseconds', () => {
  it('writes what JSON.stringify writes of the duration rounded to the microsecond', () => {
    const cases = [
      0,
      0.0004,
      0.0005,
      0.001,
      0.005,
      0.01,
      0.05,
      0.1,
      0.12,
      0.125,
      1,
      1.5,
      2.25,
      10.001,
      10.01,
      10.1,
      999.999,
      1000,
      123456.789,
      1e9 + 0.5,
      9_007_199_254.7,
      9_007_199_254.741,
      1e15,
      1e300,
    ];
    for (const ms of [
      ...cases,
      -0,
      -0.0004,
      -1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]) {
      expect(jsonMilliseconds(ms), String(ms)).toBe(reference(ms));
    }
  });

  it('agrees with JSON.stringify on random durations of every magnitude', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: 0, max: 10, noNaN: true }),
          fc.double({ min: 0, max: 1e7, noNaN: true }),
          fc.double({ noNaN: false }),
          fc.integer({ min: 0, max: 1e9 }).map((n) => n / 1000),
        ),
        (ms) => {
          expect(jsonMilliseconds(ms)).toBe(reference(ms));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('jsonNumber', () => {
  it('is JSON.stringify for numbers, null when not finite', () => {
    for (const n of [0, -0, 1, -1.5, 1e21, 5e-7, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(jsonNumber(n)).toBe(JSON.stringify(n) ?? 'null');
    }
  });
});
