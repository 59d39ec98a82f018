import { describe, expect, it } from 'vitest';
import { eventually, waitFor } from './wait.js';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    expect(await waitFor('n to reach 3', () => (++n >= 3 ? n : 0))).toBe(3);
  });

  it('fails after its deadline, saying what it waited for and what it last saw', async () => {
    await expect(waitFor('the moon', () => false, 50)).rejects.toThrow(
      'timed out waiting for the moon (last: false)',
    );
    await expect(
      waitFor(
        'a throwing check',
        () => {
          throw new Error('boom');
        },
        30,
      ),
    ).rejects.toThrow(/last: Error: boom/);
  });
});

describe('eventually', () => {
  it('retries until the assertion passes', async () => {
    let n = 0;
    await eventually(() => expect(++n).toBeGreaterThan(2));
    expect(n).toBe(3);
  });

  it('rethrows the last failure after its deadline', async () => {
    await expect(eventually(() => expect(1).toBe(2), 30)).rejects.toThrow(/expected 1 to be 2/);
  });
});
