import { describe, expect, it } from 'vitest';
import { durationSchema, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['250', 250],
    ['5 s', null],
    ['-1s', null],
    ['abc', null],
  ])('%s -> %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('durationSchema', () => {
  it('turns text into milliseconds and refuses short or bad ones, naming the flag', () => {
    const schema = durationSchema('--interval', 100);
    expect(schema.parse('2s')).toBe(2000);
    expect(schema.safeParse('50ms').error?.issues[0]?.message).toBe(
      '--interval: expected a duration of at least 100 ms (e.g. 5s)',
    );
    expect(schema.safeParse('soon').success).toBe(false);
  });
});
