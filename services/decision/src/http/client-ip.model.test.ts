// Who the forward-auth client is, over real sockets, against a reference model written from the
// rules of docs/decision.md ("Who the client is"), not from client-ip.ts: random trusted sets
// (IPv4, IPv6, IPv4-mapped spellings, on IPv4 and dual-stack listeners), peers bound to chosen
// loopback addresses, and X-Forwarded-For / X-Real-IP written byte for byte: several fields,
// spaces and tabs, ports, brackets, IPv4-mapped and upper-case spellings, and junk (`unknown`,
// a zone, a prefix length, an empty element). Every pool address is a pod of its own, so the
// identity the service answers with names the address it took for the client.
//
// Runs: CLIENT_IP_RUNS (default 250), CLIENT_IP_SEED to replay a failure fast-check printed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasIpv6Loopback, memoryLogger } from '@podgate/test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, CONFIG, podStore, record, TOKEN } from '../../test/fixtures.js';
import { parseDecisionConfig } from '../config.js';
import { type DecisionService, startDecisionService } from '../service.js';

const RUNS = Number(process.env.CLIENT_IP_RUNS ?? 250);
const SEED = process.env.CLIENT_IP_SEED === undefined ? 20261208 : Number(process.env.CLIENT_IP_SEED);
/** An endpoint without a policy: every client is allowed, with its identity in the headers. */
const OPEN = 'tcp://ledger.payments.internal:5432';
const PEERS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const POOL = [
  ...PEERS,
  '10.0.0.1',
  '10.0.0.9',
  '203.0.113.7',
  '2001:db8::5',
  '2001:db8::7',
  'fd00::1',
  '::1',
];
const SETS = [
  { trusted: '127.0.0.1', dual: false },
  { trusted: '127.0.0.0/30,fd00::/64', dual: false },
  { trusted: '::ffff:127.0.0.3,::ffff:127.0.0.4/128,10.0.0.0/24', dual: false },
  { trusted: '::ffff:127.0.0.0/125,2001:db8::5', dual: true },
  { trusted: '::1,127.0.0.2/32,127.0.0.5,10.0.0.9', dual: true },
  { trusted: '127.0.0.0/8,::1,fd00::/8', dual: true },
];

// ---- the model: 128-bit addresses, IPv4 as ::ffff:a.b.c.d ----

const ALL = (1n << 128n) - 1n;

function ipv4(text: string): bigint | null {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(text);
  if (m === null || m.slice(1).some((o) => Number(o) > 255)) return null;
  return m.slice(1).reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

function address(text: string): bigint | null {
  const v4 = ipv4(text);
  if (v4 !== null) return (0xffffn << 32n) | v4;
  // A zone (`fe80::1%eth0`) names no address of its own: refused.
  if (!net.isIPv6(text) || text.includes('%')) return null;
  // The WHATWG serializer writes the groups in hex (an embedded IPv4 too), `::` for zeros.
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head = '', tail] = host.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}

function shown(a: bigint): string {
  if (a >> 32n === 0xffffn) return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((a >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function ranges(list: string): Array<(a: bigint) => boolean> {
  return list.split(',').map((entry) => {
    const [ip = '', length] = entry.split('/');
    const bits = length === undefined ? 128 : ip.includes(':') ? Number(length) : 96 + Number(length);
    const mask = ALL ^ ((1n << BigInt(128 - bits)) - 1n);
    const base = address(ip)! & mask;
    return (a) => (a & mask) === base;
  });
}

/** One hop: an address, IPv4 with a port, or [address] with or without a port. */
function hop(text: string): bigint | null {
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed !== null) return Number(bracketed[2] ?? 0) > 65535 ? null : address(bracketed[1]!);
  const withPort = /^([\d.]+):(\d{1,5})$/.exec(text);
  if (withPort !== null) return Number(withPort[2]) > 65535 ? null : address(withPort[1]!);
  return address(text);
}

type Expected = { status: 400 } | { status: 200; ip: string };

function expected(peer: string, trusted: string, xff: string[], realIp: string[]): Expected {
  const inTrusted = ranges(trusted);
  const isTrusted = (a: bigint) => inTrusted.some((contains) => contains(a));
  const peerAddress = address(peer)!;
  // 1. An untrusted peer: its headers are ignored.
  if (!isTrusted(peerAddress)) return { status: 200, ip: shown(peerAddress) };
  // 2. The rightmost X-Forwarded-For entry not itself trusted; several fields are one list.
  const joined = xff.join(',').trim();
  const entries = joined === '' ? [] : joined.split(',').map((e) => e.trim());
  for (let i = entries.length - 1; i >= 0; i--) {
    const a = hop(entries[i]!);
    if (a === null) return { status: 400 }; // not an address where the walk stops
    if (!isTrusted(a)) return { status: 200, ip: shown(a) };
  }
  // 3. X-Real-IP: exactly one address.
  if (realIp.length > 0) {
    const a = realIp.length === 1 && !realIp[0]!.includes(',') ? hop(realIp[0]!.trim()) : null;
    return a === null ? { status: 400 } : { status: 200, ip: shown(a) };
  }
  // 4. Every hop trusted: the one the peer appended (the rightmost), never the leftmost; or the peer.
  const nearest = entries.length > 0 ? hop(entries[entries.length - 1]!) : null;
  return { status: 200, ip: shown(nearest ?? peerAddress) };
}

// ---- the services, one per trusted set ----

let dir: string;
let ipv6 = false;
const services: DecisionService[] = [];

beforeAll(async () => {
  ipv6 = await hasIpv6Loopback();
  dir = mkdtempSync(join(tmpdir(), 'decision-client-ip-'));
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  writeFileSync(join(dir, 'tokens'), `${TOKEN}\n`);
  const pods = POOL.map((ip) => record(`uid-${ip}`, [ip], 'payments', `pod-${ip.replace(/[.:]/g, '-')}`));
  for (const set of SETS) {
    const parsed = parseDecisionConfig({
      configFiles: [join(dir, 'config.yaml')],
      tokenFile: join(dir, 'tokens'),
      listen: set.dual && ipv6 ? '[::]:0' : '127.0.0.1:0',
      trustedProxies: set.trusted,
    });
    if (!parsed.ok) throw new Error(parsed.message);
    services.push(
      await startDecisionService(parsed.config, {
        store: await podStore(pods),
        clusters: [CLUSTER],
        logger: memoryLogger('warn').logger,
      }),
    );
  }
});
afterAll(async () => {
  for (const service of services) await service.stop();
  rmSync(dir, { recursive: true, force: true });
});

function ask(
  port: number,
  peer: string,
  xff: string[],
  realIp: string[],
): Promise<{ status: number; id: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const host = peer.includes(':') ? '::1' : '127.0.0.1';
    const socket = net.connect({ port, host, localAddress: peer });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('error', reject);
    socket.on('close', () =>
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]),
        id: /\r\nx-podgate-pod-id: ([^\r]*)/i.exec(text)?.[1],
        text,
      }),
    );
    const head = [
      `GET /v1/forward-auth/orig?endpoint=${encodeURIComponent(OPEN)} HTTP/1.1`,
      'Host: podgate',
      `Authorization: Bearer ${TOKEN}`,
      ...xff.map((field) => `X-Forwarded-For: ${field}`),
      ...realIp.map((field) => `X-Real-IP: ${field}`),
      'Connection: close',
    ];
    socket.write(Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'));
  });
}

// ---- what a proxy (or a client through one) may write ----

const port = fc.integer({ min: 0, max: 65535 });
const spelled = fc.tuple(fc.constantFrom(...POOL), fc.nat(4), port).map(([ip, form, p]) => {
  if (ip.includes(':')) {
    const a = address(ip)!;
    const full = Array.from({ length: 8 }, (_, i) =>
      ((a >> BigInt(112 - 16 * i)) & 0xffffn).toString(16).padStart(4, '0'),
    ).join(':');
    return [ip, ip.toUpperCase(), `[${ip}]`, `[${ip}]:${p}`, full][form]!;
  }
  return [ip, `${ip}:${p}`, `::ffff:${ip}`, `[::ffff:${ip}]:${p}`, `::FFFF:${ip}`][form]!;
});
const junk = fc.constantFrom(
  'unknown',
  '_hidden',
  '',
  'fe80::1%eth0',
  '203.0.113.0/24',
  '010.0.0.1',
  '[::1',
  '10.0.0.1:99999',
  'x',
);
const element = fc.oneof({ arbitrary: spelled, weight: 12 }, { arbitrary: junk, weight: 1 });
const space = fc.constantFrom('', '', ' ', '  ', '\t', ' \t');
const field = fc
  .tuple(
    fc.array(fc.tuple(space, element, space), { maxLength: 4 }),
    fc.constantFrom(',', ', ', ' , ', ',\t'),
  )
  .map(([items, comma]) => items.map(([a, e, b]) => `${a}${e}${b}`).join(comma));
const request = fc.record({
  set: fc.nat(SETS.length - 1),
  peer: fc.constantFrom(...PEERS, '::1'),
  xff: fc.array(field, { maxLength: 3 }),
  realIp: fc.oneof(
    { arbitrary: fc.constant([] as string[]), weight: 3 },
    { arbitrary: fc.array(element, { minLength: 1, maxLength: 2 }), weight: 1 },
  ),
});

describe('/v1/forward-auth: who the client is, against the model', () => {
  it('answers for the address the rules name, or 400, for every peer, trusted set and header', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ set, peer, xff, realIp }) => {
        const { trusted, dual } = SETS[set]!;
        // An IPv6 peer needs the dual-stack listener (and an IPv6 loopback).
        const from = peer === '::1' && !(dual && ipv6) ? '127.0.0.1' : peer;
        const want = expected(from, trusted, xff, realIp);
        const got = await ask(services[set]!.port, from, xff, realIp);
        const context = JSON.stringify({ trusted, from, xff, realIp, want, got: got.text.slice(0, 400) });
        if (want.status === 400) {
          expect(got.status, context).toBe(400);
          expect(got.text, context).toContain('"code":"invalid_request"');
        } else {
          expect(got.status, context).toBe(200);
          expect(got.id, context).toBe(`uid-${want.ip}`);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
