import { describe, expect, it } from 'vitest';
import { compareResourceVersions, maxResourceVersion } from './resource-version.js';

describe('compareResourceVersions', () => {
  it.each([
    ['9', '10', -1],
    ['10', '9', 1],
    ['10', '10', 0],
    ['010', '10', 0],
    ['0', '00', 0],
    ['99999999999999999999', '100000000000000000000', -1], // beyond 2^53
    ['abc', '10', null],
    ['', '10', null],
    ['10', '1e3', null],
  ] as const)('%s vs %s', (a, b, expected) => {
    expect(compareResourceVersions(a, b)).toBe(expected);
  });

  it('maxResourceVersion ignores non-decimal versions', () => {
    expect(maxResourceVersion(['5', 'x', '40', '9'])).toBe('40');
    expect(maxResourceVersion(['x', ''])).toBe('');
  });
});
