import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { normalizeIp, tryNormalizeIp } from './ip.js';

describe('normalizeIp', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:0a01:0203', '10.1.2.3'],
    ['0:0:0:0:0:ffff:10.1.2.3', '10.1.2.3'],
    ['0000:0000:0000:0000:0000:FFFF:0A01:0203', '10.1.2.3'],
    ['::1', '::1'],
    ['::', '::'],
    ['FD00:0:0:0:0:0:0:5', 'fd00::5'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 4.2.3: the first of equal runs
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8::', '2001:db8::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::10.1.2.3', '::a01:203'], // IPv4-compatible (deprecated) stays IPv6
    ['64:ff9b::10.1.2.3', '64:ff9b::a01:203'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each([
    [''],
    ['10.1.2'],
    ['10.1.2.3.4'],
    ['10.01.2.3'], // leading zero: octal in some parsers
    ['256.1.1.1'],
    ['10.1.2.3 '],
    [' 10.1.2.3'],
    ['fe80::1%eth0'],
    ['10.0.0.0/8'],
    ['fd00::/64'],
    ['[::1]'],
    ['localhost'],
    ['1:2:3:4:5:6:7:8:9'],
    ['1:2:3:4:5:6:7'],
    ['1::2::3'],
    ['1:2:3:4:5:6:7::8'], // `::` must stand for at least one group
    ['12345::1'],
    ['::ffff:10.1.2.300'],
    ['::ffff:10.1.2.3:1'],
    ['g::1'],
    [`${'1:'.repeat(22)}1`], // over 45 characters
    ['١٠.1.2.3'], // non-ASCII digits
  ])('refuses %j', (input) => {
    expect(tryNormalizeIp(input)).toBeNull();
    expect(() => normalizeIp(input)).toThrow(IdentityError);
    try {
      normalizeIp(input);
    } catch (err) {
      expect((err as IdentityError).code).toBe('invalid_ip');
      expect((err as IdentityError).message).toMatch(/not an IP address/);
    }
  });

  it('refuses non-strings without throwing from tryNormalizeIp', () => {
    expect(tryNormalizeIp(42 as unknown as string)).toBeNull();
    expect(tryNormalizeIp(null as unknown as string)).toBeNull();
  });
});
