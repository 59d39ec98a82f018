import { describe, expect, it } from 'vitest';
import { cidrContains, isPrivateIp, parseCidr, parseIp } from './ip.js';

describe('parseIp', () => {
  it.each([
    ['10.1.2.3', [0, 0, 0xffff, 0x0a010203]],
    ['::ffff:10.1.2.3', [0, 0, 0xffff, 0x0a010203]],
    ['::1', [0, 0, 0, 1]],
    ['2001:db8::1', [0x20010db8, 0, 0, 1]],
    ['1:2:3:4:5:6:1.2.3.4', [0x10002, 0x30004, 0x50006, 0x01020304]],
  ])('%s', (text, words) => expect(parseIp(text)).toEqual(words));

  it.each(['', '1.2.3', '010.1.1.1', '256.1.1.1', 'fe80::1%eth0', '1::2::3', 'example.com'])(
    'refuses %j',
    (text) => expect(parseIp(text)).toBeUndefined(),
  );
});

describe('CIDR', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.1', true],
    ['10.0.0.0/8', '::ffff:10.0.0.1', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.1/8', '10.9.9.9', true],
    ['0.0.0.0/0', '1.2.3.4', true],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/33', '2001:db8:ffff::1', false],
    ['::/0', '2001:db8::1', true],
  ])('%s contains %s: %s', (cidr, ip, want) =>
    expect(cidrContains(parseCidr(cidr)!, parseIp(ip)!)).toBe(want),
  );

  it.each(['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/08', 'x/8', '/8'])('refuses %j', (text) =>
    expect(parseCidr(text)).toBeUndefined(),
  );

  it.each([
    ['10.1.1.1', true],
    ['172.31.0.1', true],
    ['172.32.0.1', false],
    ['fd12::1', true],
    ['8.8.8.8', false],
  ])('isPrivateIp(%s) = %s', (ip, want) => expect(isPrivateIp(parseIp(ip)!)).toBe(want));
});
