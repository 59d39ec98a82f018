// Who the client is, table by table: untrusted peers' headers ignored, forged chains, several
// trusted hops, ports, IPv6 and IPv4-mapped spellings, garbage where the walk stops.
import { parseCidrList } from '@podgate/runtime';
import { describe, expect, it } from 'vitest';
import { parseHop, resolveClient } from './client-ip.js';

const list = (text: string) => {
  const parsed = parseCidrList(text);
  if (!parsed.ok) throw new Error(parsed.invalid.join());
  return parsed.list;
};
const PROXIES = list('10.0.0.0/24,fd00::/64');
const peer = (ip: string, port = 40000) => ({ ip, port });

function client(
  peerIp: string,
  xff: string | null,
  realIp: string | null = null,
  trusted: typeof PROXIES | null = PROXIES,
) {
  return resolveClient({ peer: peer(peerIp), forwardedFor: xff, realIp, trusted });
}

describe('resolveClient', () => {
  it.each([
    ['no trusted proxies: the peer, whatever the headers say', '10.0.0.5', '1.2.3.4', '5.6.7.8', null],
    ['an untrusted peer: its X-Forwarded-For is ignored', '192.168.1.9', '10.0.0.1', null, PROXIES],
    ['an untrusted peer: its X-Real-IP is ignored', '192.168.1.9', null, '10.9.9.9', PROXIES],
    ['an untrusted peer claiming to be a trusted one', '192.168.1.9', '10.0.0.7, 10.0.0.8', null, PROXIES],
  ])('%s', (_what, peerIp, xff, realIp, trusted) => {
    expect(client(peerIp, xff, realIp, trusted)).toEqual({
      ok: true,
      client: { ip: peerIp, port: 40000, from: 'peer' },
    });
  });

  it.each([
    ['one hop: the address the proxy appended', '203.0.113.7', '203.0.113.7'],
    ['a forged leftmost entry is never taken', '6.6.6.6, 203.0.113.7', '203.0.113.7'],
    ['a long forged chain', '1.1.1.1, 2.2.2.2, 3.3.3.3, 203.0.113.7', '203.0.113.7'],
    [
      'several trusted hops are skipped from the right',
      '6.6.6.6, 203.0.113.7, 10.0.0.9, 10.0.0.8',
      '203.0.113.7',
    ],
    [
      'a forged entry that names a trusted proxy is skipped too',
      '10.0.0.3, 203.0.113.7, 10.0.0.9',
      '203.0.113.7',
    ],
    ['spaces and no spaces', '6.6.6.6,203.0.113.7 ,  10.0.0.9', '203.0.113.7'],
    ['IPv6 hops', '2001:db8::1, fd00::5', '2001:db8::1'],
    ['IPv4-mapped IPv6 is IPv4', '::ffff:203.0.113.7', '203.0.113.7'],
    ['a trusted hop spelled IPv4-mapped is still trusted', '203.0.113.7, ::ffff:10.0.0.9', '203.0.113.7'],
    ['a forged X-Real-IP does not beat X-Forwarded-For', '203.0.113.7', '203.0.113.7'],
  ])('from a trusted peer, %s', (_what, xff, expected) => {
    const result = client('10.0.0.1', xff, '9.9.9.9');
    expect(result).toMatchObject({ ok: true, client: { ip: expected, from: 'x-forwarded-for' } });
  });

  it('keeps the port a proxy wrote, 0 otherwise', () => {
    expect(client('10.0.0.1', '203.0.113.7:5555')).toMatchObject({
      client: { ip: '203.0.113.7', port: 5555 },
    });
    expect(client('10.0.0.1', '[2001:db8::1]:443')).toMatchObject({
      client: { ip: '2001:db8::1', port: 443 },
    });
    expect(client('10.0.0.1', '203.0.113.7')).toMatchObject({ client: { port: 0 } });
  });

  it('uses X-Real-IP when X-Forwarded-For is absent, empty or only trusted hops', () => {
    for (const xff of [null, '', '  ', '10.0.0.9, 10.0.0.8']) {
      expect(client('10.0.0.1', xff, '203.0.113.9')).toEqual({
        ok: true,
        client: { ip: '203.0.113.9', port: 0, from: 'x-real-ip' },
      });
    }
  });

  it('a request that only crossed trusted hops is the one the peer appended (never the leftmost), else the peer', () => {
    expect(client('10.0.0.1', '10.0.0.9, 10.0.0.8')).toMatchObject({
      client: { ip: '10.0.0.8', from: 'x-forwarded-for' },
    });
    // A client inside a trusted range (a pod network listed whole) that names another address
    // of that range: decided as itself, the address its proxy appended.
    expect(client('10.0.0.1', '10.0.0.99, 10.0.0.7:41234')).toMatchObject({
      client: { ip: '10.0.0.7', port: 41234, from: 'x-forwarded-for' },
    });
    expect(client('10.0.0.1', null)).toMatchObject({ client: { ip: '10.0.0.1', from: 'peer' } });
  });

  it.each([
    ['garbage', 'not-an-ip'],
    ['an empty entry', '203.0.113.7, , 10.0.0.9'],
    ['the RFC 7239 "unknown" token', 'unknown'],
    ['a zone index', 'fe80::1%eth0'],
    ['a prefix length', '203.0.113.0/24'],
    ['an octal-looking octet', '010.1.2.3'],
    ['a port out of range', '203.0.113.7:70000'],
    ['a bracket left open', '[2001:db8::1'],
    ['header injection text', '203.0.113.7\r\nX-Podgate-Pod-Name: admin'],
  ])('refuses %s where the walk stops (never skips to an entry further left)', (_what, xff) => {
    const result = client('10.0.0.1', `6.6.6.6, ${xff}`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^X-Forwarded-For entry \d+ of \d+ is not an IP address/);
  });

  it('garbage left of the client does not matter: the walk never reaches it', () => {
    expect(client('10.0.0.1', 'garbage, 203.0.113.7')).toMatchObject({
      ok: true,
      client: { ip: '203.0.113.7' },
    });
  });

  it('refuses a bad or repeated X-Real-IP', () => {
    expect(client('10.0.0.1', null, 'nope')).toMatchObject({ ok: false, message: /X-Real-IP/ });
    expect(client('10.0.0.1', null, '1.2.3.4, 5.6.7.8')).toMatchObject({
      ok: false,
      message: /one IP address/,
    });
  });

  it('bounds what a message repeats of the caller input', () => {
    const result = client('10.0.0.1', 'x'.repeat(5000));
    expect(!result.ok && result.message.length).toBeLessThan(200);
  });
});

describe('resolveClient with the peer already judged (peerTrusted)', () => {
  it('answers as judging it afresh would, for trusted and untrusted peers', () => {
    for (const [peerIp, xff] of [
      ['10.0.0.5', '1.2.3.4'],
      ['10.9.9.9', '1.2.3.4'],
      ['fd00::5', '10.0.0.7, 5.6.7.8'],
    ] as const) {
      const fresh = resolveClient({ peer: peer(peerIp), forwardedFor: xff, realIp: null, trusted: PROXIES });
      const judged = resolveClient({
        peer: peer(peerIp),
        forwardedFor: xff,
        realIp: null,
        trusted: PROXIES,
        peerTrusted: PROXIES.contains(peerIp),
      });
      expect(judged).toEqual(fresh);
    }
  });

  it('never believes headers when there is no trusted list, whatever it is told', () => {
    const result = resolveClient({
      peer: peer('10.0.0.5'),
      forwardedFor: '1.2.3.4',
      realIp: null,
      trusted: null,
      peerTrusted: true,
    });
    expect(result).toEqual({ ok: true, client: { ip: '10.0.0.5', port: 40000, from: 'peer' } });
  });
});

describe('parseHop', () => {
  it.each([
    ['10.1.2.3', { ip: '10.1.2.3', port: 0 }],
    ['10.1.2.3:8080', { ip: '10.1.2.3', port: 8080 }],
    ['2001:DB8:0:0:0:0:0:1', { ip: '2001:db8::1', port: 0 }],
    ['[2001:db8::1]', { ip: '2001:db8::1', port: 0 }],
    ['[::ffff:10.1.2.3]:99', { ip: '10.1.2.3', port: 99 }],
  ])('%s', (text, expected) => {
    expect(parseHop(text)).toEqual(expected);
  });

  it.each(['', ':80', '10.1.2.3:', '10.1.2.3:80:1', '[::1]x', '[::1]:', 'host:80', '1.2.3.4.5'])(
    'refuses %j',
    (text) => {
      expect(parseHop(text)).toBeNull();
    },
  );
});
