import { describe, expect, it } from 'vitest';
import { formatIpv6, identityAddress, parseIpv4Text, parseIpv6Text } from './address.js';

const v6 = (text: string) => {
  const bytes = parseIpv6Text(text);
  if (bytes === null) throw new Error(`test input ${text} does not parse`);
  return bytes;
};

describe('parseIpv4Text', () => {
  it.each([
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['10.1.20.100', [10, 1, 20, 100]],
  ])('%s', (text, want) => expect(Array.from(parseIpv4Text(text)!)).toEqual(want));

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '010.1.1.1', // leading zero: octal to some parsers
    '1.2.3.04',
    '00.1.1.1',
    '256.1.1.1',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1..3.4',
    '+1.2.3.4',
    '1.2.3.0x4',
    '١.٢.٣.٤', // Arabic-Indic digits match \d in some engines
    '::ffff:1.2.3.4',
  ])('refuses %j', (text) => expect(parseIpv4Text(text)).toBeNull());
});

describe('parseIpv6Text and formatIpv6', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs wins
    ['1::', '1::'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['::ffff:a01:203', '::ffff:10.1.2.3'], // mapped is shown mixed however it was spelled
    ['::10.1.2.3', '::a01:203'], // the deprecated IPv4-compatible form is not mapped
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('%s -> %s', (text, want) => expect(formatIpv6(v6(text))).toBe(want));

  it.each([
    '',
    ':',
    ':::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::', // `::` must stand for at least one group
    '::1:2:3:4:5:6:7:8',
    '1::2::3',
    ':1::2',
    '1::2:',
    '12345::1',
    'g::1',
    'fe80::1%eth0',
    '[::1]',
    '::1/128',
    '1.2.3.4',
    '::1.2.3.4:1', // the dotted quad must be last
    '1.2.3.4::',
    '::ffff:01.2.3.4',
    '::ffff:1.2.3.256',
    ' ::1',
    `${'0:'.repeat(20)}1`,
  ])('refuses %j', (text) => expect(parseIpv6Text(text)).toBeNull());

  it('formats mapped addresses in hex when asked (the v1 encoder)', () => {
    expect(formatIpv6(v6('::ffff:10.1.2.3'), 0, false)).toBe('::ffff:a01:203');
  });
});

describe('identityAddress', () => {
  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::ffff:0.0.0.0', '0.0.0.0'],
    ['::10.1.2.3', '::a01:203'],
    ['2001:db8::1', '2001:db8::1'],
    ['::1', '::1'],
  ])('%s -> %s', (text, want) => expect(identityAddress('ipv6', v6(text))).toBe(want));

  it('keeps IPv4 as it is', () =>
    expect(identityAddress('ipv4', parseIpv4Text('10.0.0.1')!)).toBe('10.0.0.1'));
});
