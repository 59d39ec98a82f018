import { describe, expect, it } from 'vitest';
import { canonicalCidr, cidrListSchema, parseCidrList } from './cidr.js';

describe('canonicalCidr', () => {
  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0:0:0:0:1/32', '2001:db8::/32'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['fd00::/8', 'fd00::/8'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:10.1.2.3', '10.1.2.3/32'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['10.0.0.0/33', null],
    ['10.0.0.01/8', null],
    ['fe80::1%eth0/64', null],
    ['10.0.0.0/', null],
    ['/8', null],
    ['example.com/8', null],
  ])('%s -> %s', (text, canonical) => expect(canonicalCidr(text)).toBe(canonical));
});

describe('parseCidrList', () => {
  it('keeps canonical forms in order, without duplicates', () => {
    const parsed = parseCidrList('10.0.0.0/8, 10.9.9.9/8 ,fd00::/8,,127.0.0.1');
    expect(parsed.ok && parsed.list.cidrs).toEqual(['10.0.0.0/8', 'fd00::/8', '127.0.0.1/32']);
  });

  it('matches addresses in any spelling, IPv4 and IPv6', () => {
    const parsed = parseCidrList(['10.0.0.0/8', '2001:db8::/32']);
    if (!parsed.ok) throw new Error('expected a list');
    const { contains } = parsed.list;
    expect(contains('10.200.0.1')).toBe(true);
    expect(contains('::ffff:10.200.0.1')).toBe(true);
    expect(contains('11.0.0.1')).toBe(false);
    expect(contains('2001:DB8::5')).toBe(true);
    expect(contains('2001:db9::5')).toBe(false);
    expect(contains('not an ip')).toBe(false);
    expect(contains('')).toBe(false);
  });

  it('an empty list contains nothing', () => {
    const parsed = parseCidrList('');
    expect(parsed.ok && parsed.list.contains('10.0.0.1')).toBe(false);
  });

  it('reports every bad entry', () => {
    expect(parseCidrList('10.0.0.0/8,nope,1.2.3.4/40')).toEqual({
      ok: false,
      invalid: ['nope', '1.2.3.4/40'],
    });
  });

  it('refuses an IPv4-mapped address with a prefix under 96: it is an IPv6 range that holds every IPv4 address', () => {
    const parsed = parseCidrList('::ffff:10.0.0.0/8, ::FFFF:192.168.0.0/95');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.invalid).toHaveLength(2);
    expect(parsed.invalid[0]).toContain('write 10.0.0.0/8 (or ::ffff:10.0.0.0/104)');
    // What it would have been: every IPv4 peer trusted.
    const everyV4 = parseCidrList('::/8');
    expect(everyV4.ok && everyV4.list.contains('203.0.113.7')).toBe(true);
    // Spelled with the prefix it means, it is the IPv4 range.
    const mapped = parseCidrList('::ffff:10.0.0.0/104');
    expect(mapped.ok && mapped.list.cidrs).toEqual(['10.0.0.0/8']);
    expect(mapped.ok && mapped.list.contains('203.0.113.7')).toBe(false);
    expect(mapped.ok && mapped.list.contains('10.1.2.3')).toBe(true);
    expect(cidrListSchema('--trusted-proxies').safeParse('::ffff:10.0.0.0/8').error?.issues[0]?.message).toBe(
      '--trusted-proxies: not a CIDR range or address: ::ffff:10.0.0.0/8 (an IPv4-mapped address with a prefix under 96 is an IPv6 range holding every IPv4 address; write 10.0.0.0/8 (or ::ffff:10.0.0.0/104))',
    );
  });

  it('as a zod field, names the flag and the bad entries', () => {
    const schema = cidrListSchema('--trusted-proxy');
    expect(schema.parse(['127.0.0.0/8']).cidrs).toEqual(['127.0.0.0/8']);
    expect(schema.safeParse('10.0.0.0/8,x').error?.issues[0]?.message).toBe(
      '--trusted-proxy: not a CIDR range or address: "x"',
    );
  });
});
