import { describe, expect, it } from 'vitest';
import { descriptorsNeeded, openFileLimit } from './fd-limit.js';

describe('open-file limit', () => {
  it('reads the soft limit from /proc/self/limits', async () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n';
    expect(await openFileLimit(async () => text)).toBe(1024);
    expect(await openFileLimit(async () => text.replace('1024 ', 'unlimited '))).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(await openFileLimit(async () => 'nothing here')).toBeNull();
    expect(
      await openFileLimit(async () => {
        throw new Error('no /proc');
      }),
    ).toBeNull();
  });

  it('this process has one (Linux)', async () => {
    expect(await openFileLimit()).toBeGreaterThan(0);
  });

  it('two descriptors per connection, and some for the process', () => {
    expect(descriptorsNeeded(10_000)).toBe(20_256);
  });
});
