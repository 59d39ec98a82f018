import { describe, expect, it } from 'vitest';
import { isCanonicalIpv4 } from './canonical-ipv4.js';
import { parseIp, tryNormalizeIp } from './ip.js';

describe('isCanonicalIpv4', () => {
  it.each([
    ['10.0.0.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['192.168.100.10', true],
    ['256.0.0.1', false],
    ['10.0.0.01', false],
    ['010.0.0.1', false],
    ['10.0.0', false],
    ['10.0.0.1.2', false],
    ['10..0.1', false],
    ['.10.0.1', false],
    ['10.0.0.', false],
    ['10.0.0.1 ', false],
    ['1000.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['', false],
    ['a.b.c.d', false],
  ])('%s -> %s', (input, expected) => {
    expect(isCanonicalIpv4(input)).toBe(expected);
  });

  it('accepts exactly the strings the parser leaves unchanged as IPv4, and tryNormalizeIp agrees (random and edge inputs)', () => {
    const pieces = [
      '0',
      '00',
      '1',
      '01',
      '9',
      '10',
      '99',
      '100',
      '199',
      '255',
      '256',
      '300',
      '999',
      '1000',
      '',
      'x',
    ];
    let seed = 7;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return pieces[seed % pieces.length]!;
    };
    for (let n = 0; n < 20_000; n++) {
      const parts = Array.from({ length: 3 + (n % 3) }, pick);
      const input = parts.join('.');
      const canonical = parseIp(input);
      expect(isCanonicalIpv4(input), input).toBe(canonical === input);
      expect(tryNormalizeIp(input), input).toBe(canonical);
    }
  });
});
