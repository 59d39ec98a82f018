// Property tests: round trips through the encoder and parser, splits, and hostile bytes.
// PROXY_PROTOCOL_FUZZ_RUNS sets the number of runs of the fuzz properties (default 2000,
// about a second); set it to 200000 or more for a long run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, isIpv4Mapped, parseIpv4Text, parseIpv6Text } from './address.js';
import { V2_SIGNATURE } from './constants.js';
import { crc32c } from './crc32c.js';
import { encodeProxyHeaderV1, encodeProxyHeaderV2 } from './encode.js';
import { ProxyHeaderParser, parseProxyHeader } from './parser.js';
import type { ParseResult, PrefixParseResult, ProxyTlv } from './types.js';

function runsFromEnv(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`PROXY_PROTOCOL_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return runs;
}
const FUZZ_RUNS = runsFromEnv(process.env.PROXY_PROTOCOL_FUZZ_RUNS, 2000);
const RUNS = 300;

// Addresses: IPv4, IPv4-mapped IPv6, and IPv6 rich in zero groups (where spellings differ).
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const group = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 2 },
);
const ipv6 = fc.oneof(
  fc.array(group, { minLength: 8, maxLength: 8 }).map((groups) => {
    const bytes = new Uint8Array(16);
    groups.forEach((g, i) => {
      bytes[2 * i] = g >> 8;
      bytes[2 * i + 1] = g & 0xff;
    });
    return bytes;
  }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  ipv4.map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4])),
);
const address = fc.oneof(ipv4, ipv6);
const port = fc.integer({ min: 0, max: 0xffff });
const tlv: fc.Arbitrary<ProxyTlv> = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== 0x03),
  value: fc.uint8Array({ maxLength: 40 }).map((v) => Buffer.from(v)),
});

/** The same address spelled the ways a sender might: canonical, full, upper case, mixed. */
const spelling = fc.constantFrom('canonical', 'full', 'upper', 'mixed');
function spell(bytes: Uint8Array, style: string): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  if (style === 'full') return groups.map((g) => g.padStart(4, '0')).join(':');
  if (style === 'upper') return formatIpv6(bytes, 0, false).toUpperCase();
  if (style === 'mixed') return `${groups.slice(0, 6).join(':')}:${formatIpv4(bytes, 12)}`;
  return formatIpv6(bytes);
}

/** What the parser should report for an address the encoder was given. */
function expected(source: Uint8Array, destination: Uint8Array) {
  const narrow = (b: Uint8Array) => (b.length === 16 && isIpv4Mapped(b) ? b.subarray(12) : b);
  const s = narrow(source);
  const d = narrow(destination);
  if (s.length === 4 && d.length === 4) {
    return { family: 'ipv4', source: formatIpv4(s), destination: formatIpv4(d), client: formatIpv4(s) };
  }
  const wide = (b: Uint8Array) =>
    b.length === 4 ? Uint8Array.from([...new Uint8Array(10), 0xff, 0xff, ...b]) : b;
  return {
    family: 'ipv6',
    source: formatIpv6(wide(s)),
    destination: formatIpv6(wide(d)),
    client: s.length === 4 ? formatIpv4(s) : formatIpv6(s),
  };
}

const endpoints = fc.record({
  source: address,
  destination: address,
  sourcePort: port,
  destinationPort: port,
  sourceStyle: spelling,
  destinationStyle: spelling,
});
type Endpoints = typeof endpoints extends fc.Arbitrary<infer T> ? T : never;
const encodeInput = (e: Endpoints) => ({
  source: { address: spell(e.source, e.sourceStyle), port: e.sourcePort },
  destination: { address: spell(e.destination, e.destinationStyle), port: e.destinationPort },
});

/** Push `bytes` in pieces cut at `cuts`; later pieces after a complete answer join the payload. */
function pushInPieces(bytes: Buffer, cuts: number[]): ParseResult {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, point));
    from = point;
  }
  const parser = new ProxyHeaderParser();
  for (const [i, piece] of pieces.entries()) {
    const result = parser.push(piece);
    if (result.status === 'refused') return result;
    if (result.status === 'complete') {
      return { ...result, payload: Buffer.concat([result.payload, ...pieces.slice(i + 1)]) };
    }
  }
  return { status: 'incomplete', buffered: parser.buffered };
}

/** The pure parser's answer in the incremental parser's shape, for comparison. */
function asPushed(bytes: Buffer, result: PrefixParseResult, buffered: number): ParseResult {
  if (result.status === 'complete') {
    return { status: 'complete', header: result.header, payload: bytes.subarray(result.consumed) };
  }
  return result.status === 'incomplete' ? { status: 'incomplete', buffered } : result;
}

/** Every answer is well formed; a complete one is consistent with the bytes it came from. */
function checkAnswer(bytes: Buffer, result: PrefixParseResult, seen?: Map<string, number>): void {
  const outcome = result.status === 'refused' ? result.code : result.status;
  seen?.set(outcome, (seen.get(outcome) ?? 0) + 1);
  expect(['incomplete', 'complete', 'refused']).toContain(result.status);
  if (result.status === 'refused') {
    expect(result.message.length).toBeLessThan(200);
    return;
  }
  if (result.status !== 'complete') return;
  const { header, consumed } = result;
  expect(consumed).toBe(header.length);
  expect(consumed).toBeLessThanOrEqual(header.version === 1 ? 107 : 4112);
  expect(parseProxyHeader(bytes.subarray(0, consumed))).toEqual(result);
  if (header.client.use === 'header') {
    const reparsed = parseIpv4Text(header.client.address) ?? parseIpv6Text(header.client.address);
    expect(reparsed).not.toBeNull();
  }
  if (header.version === 1) return;
  // TLVs fill the end of the header exactly; a CRC32C among them matches the header.
  let at = consumed - header.tlvs.reduce((n, t) => n + 3 + t.value.length, 0);
  expect(at).toBeGreaterThanOrEqual(16);
  for (const t of header.tlvs) {
    if (t.type === 0x03) expect(crc32c(bytes.subarray(0, consumed), at + 3, 4)).toBe(t.value.readUInt32BE(0));
    at += 3 + t.value.length;
  }
}

/** Guard against a generator that stopped reaching the parser's branches. */
function expectVariety(seen: Map<string, number>): void {
  if (FUZZ_RUNS < 1000) return;
  expect(seen.get('complete') ?? 0).toBeGreaterThan(0);
  expect(seen.get('incomplete') ?? 0).toBeGreaterThan(0);
  expect(seen.size).toBeGreaterThanOrEqual(8);
}

describe('round trips', () => {
  it('v2: encode then parse gives back the addresses, ports and TLVs', () => {
    fc.assert(
      fc.property(endpoints, fc.array(tlv, { maxLength: 6 }), fc.boolean(), (e, tlvs, withCrc) => {
        const bytes = encodeProxyHeaderV2(encodeInput(e), { tlvs, crc32c: withCrc });
        const result = parseProxyHeader(bytes);
        if (result.status !== 'complete') throw new Error(JSON.stringify(result));
        const want = expected(e.source, e.destination);
        expect(result.consumed).toBe(bytes.length);
        expect(result.header.addresses).toEqual({
          family: want.family,
          transport: 'stream',
          source: { address: want.source, port: e.sourcePort },
          destination: { address: want.destination, port: e.destinationPort },
        });
        expect(result.header.client).toEqual({ use: 'header', address: want.client, port: e.sourcePort });
        const types = result.header.tlvs.map((t) => t.type);
        expect(types).toEqual([...tlvs.map((t) => t.type), ...(withCrc ? [0x03] : [])]);
        for (const [i, t] of tlvs.entries()) expect(result.header.tlvs[i]!.value.equals(t.value)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('v1: encode then parse gives back the addresses and ports', () => {
    fc.assert(
      fc.property(endpoints, (e) => {
        const bytes = encodeProxyHeaderV1(encodeInput(e));
        const result = parseProxyHeader(bytes);
        if (result.status !== 'complete') throw new Error(JSON.stringify(result));
        const want = expected(e.source, e.destination);
        expect(bytes.length).toBeLessThanOrEqual(104);
        expect(result.header.addresses).toMatchObject({
          family: want.family,
          source: { address: want.source, port: e.sourcePort },
          destination: { address: want.destination, port: e.destinationPort },
        });
        expect(result.header.client).toEqual({ use: 'header', address: want.client, port: e.sourcePort });
      }),
      { numRuns: RUNS },
    );
  });

  it('IPv6 text: every spelling parses to the same bytes; the canonical form is the WHATWG one', () => {
    fc.assert(
      fc.property(ipv6, (bytes) => {
        for (const style of ['canonical', 'full', 'upper', 'mixed']) {
          expect(parseIpv6Text(spell(bytes, style))).toEqual(bytes);
        }
        const hex = formatIpv6(bytes, 0, false);
        // The URL parser compresses IPv6 as RFC 5952 does, but never writes the mixed form.
        expect(new URL(`http://[${spell(bytes, 'full')}]/`).hostname).toBe(`[${hex}]`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('splits', () => {
  const header = fc.oneof(
    endpoints.map((e) => encodeProxyHeaderV1(encodeInput(e))),
    fc
      .tuple(endpoints, fc.array(tlv, { maxLength: 4 }), fc.boolean())
      .map(([e, tlvs, withCrc]) => encodeProxyHeaderV2(encodeInput(e), { tlvs, crc32c: withCrc })),
  );

  it('any split of a valid header and its payload parses the same as the whole', () => {
    fc.assert(
      fc.property(
        header,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (h, p, cuts) => {
          const bytes = Buffer.concat([h, p]);
          const whole = parseProxyHeader(bytes);
          expect(whole.status).toBe('complete');
          expect(pushInPieces(bytes, cuts)).toEqual(asPushed(bytes, whole, 0));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('hostile bytes', () => {
  // Inputs that get past the first checks often: near-signatures and v1 token soup.
  const v1Token = fc.constantFrom(
    'TCP4',
    'TCP6',
    'UNKNOWN',
    '1.2.3.4',
    '::1',
    '::ffff:1.2.3.4',
    '65535',
    '0',
    '01',
  );
  const near = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc.uint8Array({ maxLength: 300 }).map((rest) => Buffer.concat([V2_SIGNATURE, rest])),
    fc
      .tuple(fc.array(v1Token, { maxLength: 7 }), fc.constantFrom('\r\n', '\n', '\r', ' \r\n', ''))
      .map(([tokens, end]) => Buffer.from(`PROXY ${tokens.join(' ')}${end}`, 'latin1')),
  );

  /** A valid header with bytes flipped, inserted, removed or cut off. */
  const mutated = fc
    .tuple(
      fc.oneof(
        endpoints.map((e) => encodeProxyHeaderV1(encodeInput(e))),
        fc
          .tuple(endpoints, fc.array(tlv, { maxLength: 3 }), fc.boolean())
          .map(([e, tlvs, withCrc]) => encodeProxyHeaderV2(encodeInput(e), { tlvs, crc32c: withCrc })),
      ),
      fc.array(
        fc.tuple(
          fc.constantFrom('flip', 'insert', 'delete', 'cut'),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
        ),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
    )
    .map(([header, edits]) => {
      const bytes = [...header];
      for (const [kind, where, value] of edits) {
        const at = where % (bytes.length + 1);
        if (kind === 'flip' && at < bytes.length) bytes[at] = bytes[at]! ^ (value || 1);
        if (kind === 'insert') bytes.splice(at, 0, value);
        if (kind === 'delete') bytes.splice(at, 1);
        if (kind === 'cut') bytes.length = Math.min(bytes.length, at);
      }
      return Buffer.from(bytes);
    });

  it('never throws on mutated headers, and a split never changes the answer', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(mutated, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const whole = parseProxyHeader(bytes);
        checkAnswer(bytes, whole, seen);
        const pushed = pushInPieces(bytes, cuts);
        const buffered = pushed.status === 'incomplete' ? pushed.buffered : 0;
        expect(pushed).toEqual(asPushed(bytes, whole, buffered));
      }),
      { numRuns: FUZZ_RUNS },
    );
    expectVariety(seen);
  });

  it('never throws on random and near-signature bytes (fuzz)', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(near, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const buffer = Buffer.from(bytes);
        const whole = parseProxyHeader(buffer);
        checkAnswer(buffer, whole, seen);
        const pushed = pushInPieces(buffer, cuts);
        const buffered = pushed.status === 'incomplete' ? pushed.buffered : 0;
        expect(pushed).toEqual(asPushed(buffer, whole, buffered));
      }),
      { numRuns: FUZZ_RUNS },
    );
    expectVariety(seen);
  });
});
