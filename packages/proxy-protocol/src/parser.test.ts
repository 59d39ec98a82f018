// The incremental parser: chunks split anywhere, payload after the header, bounded buffering.
import { describe, expect, it } from 'vitest';
import { encodeProxyHeaderV1, encodeProxyHeaderV2 } from './encode.js';
import { ProxyProtocolError } from './errors.js';
import { ProxyHeaderParser, parseProxyHeader } from './parser.js';
import type { ParseResult, ParserOptions } from './types.js';

const input = {
  source: { address: '2001:db8::7', port: 51000 },
  destination: { address: '2001:db8::1', port: 443 },
};
const V1 = encodeProxyHeaderV1(input);
const V2 = encodeProxyHeaderV2(input, {
  tlvs: [{ type: 0x02, value: Buffer.from('ledger.payments') }],
  crc32c: true,
});
const PAYLOAD = Buffer.from('\x16\x03\x01 client hello and more', 'latin1');

function feed(chunks: Buffer[], options?: ParserOptions): { result: ParseResult; maxBuffered: number } {
  const parser = new ProxyHeaderParser(options);
  let maxBuffered = 0;
  for (const [i, chunk] of chunks.entries()) {
    const result = parser.push(chunk);
    maxBuffered = Math.max(maxBuffered, parser.buffered);
    if (result.status === 'refused') return { result, maxBuffered };
    if (result.status === 'complete') {
      // What a caller does: bytes that arrive later follow the payload.
      const payload = Buffer.concat([result.payload, ...chunks.slice(i + 1)]);
      return { result: { ...result, payload }, maxBuffered };
    }
  }
  return { result: { status: 'incomplete', buffered: parser.buffered }, maxBuffered };
}

describe.each([
  ['v1', V1],
  ['v2', V2],
])('ProxyHeaderParser, %s', (_, header) => {
  const whole = parseProxyHeader(header);
  if (whole.status !== 'complete') throw new Error('test header does not parse');

  it('gives the same header and payload for a split at every byte', () => {
    const stream = Buffer.concat([header, PAYLOAD]);
    for (let at = 0; at <= stream.length; at++) {
      const { result } = feed([stream.subarray(0, at), stream.subarray(at)]);
      expect(result).toEqual({ status: 'complete', header: whole.header, payload: PAYLOAD });
    }
  });

  it('takes the header one byte at a time, holding no more than the header', () => {
    const bytes = [...header].map((b) => Buffer.from([b]));
    const { result, maxBuffered } = feed(bytes);
    expect(result).toEqual({ status: 'complete', header: whole.header, payload: Buffer.alloc(0) });
    expect(maxBuffered).toBeLessThanOrEqual(header.length);
  });

  it('passes payload bytes after the header through untouched, whatever they are', () => {
    const payload = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff));
    const { result } = feed([Buffer.concat([header, payload])]);
    expect(result.status === 'complete' && result.payload.equals(payload)).toBe(true);
  });

  it('throws parser_finished when pushed to after it answered', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.push(header).status).toBe('complete');
    expect(() => parser.push(Buffer.from('x'))).toThrow(ProxyProtocolError);
  });
});

describe('ProxyHeaderParser bounds', () => {
  it('refuses a TLS ClientHello on its first byte', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.push(Buffer.from([0x16]))).toMatchObject({ status: 'refused', code: 'not_proxy_protocol' });
  });

  it('holds at most 107 bytes of a v1 line that never ends', () => {
    const chunks = [Buffer.from('PROXY UNKNOWN '), ...Array.from({ length: 50 }, () => Buffer.from('abcd'))];
    const parser = new ProxyHeaderParser();
    let last: ParseResult = { status: 'incomplete', buffered: 0 };
    for (const chunk of chunks) {
      last = parser.push(chunk);
      expect(parser.buffered).toBeLessThanOrEqual(107);
      if (last.status !== 'incomplete') break;
    }
    expect(last).toMatchObject({ status: 'refused', code: 'v1_line_too_long' });
  });

  it('refuses a v2 length over maxBytes having held only the 16 fixed bytes', () => {
    const header = Buffer.from(V2);
    header.writeUInt16BE(5000, 14);
    const parser = new ProxyHeaderParser();
    expect(parser.push(header.subarray(0, 15))).toEqual({ status: 'incomplete', buffered: 15 });
    expect(parser.push(Buffer.concat([header.subarray(15), Buffer.alloc(10_000)]))).toMatchObject({
      status: 'refused',
      code: 'v2_header_too_long',
    });
  });

  it('answers incomplete to an empty chunk', () => {
    expect(new ProxyHeaderParser().push(Buffer.alloc(0))).toEqual({ status: 'incomplete', buffered: 0 });
  });

  it('refuses a version the caller did not accept', () => {
    expect(new ProxyHeaderParser({ versions: [2] }).push(V1)).toMatchObject({ code: 'version_not_allowed' });
    expect(new ProxyHeaderParser({ versions: [1] }).push(V2)).toMatchObject({ code: 'version_not_allowed' });
    expect(new ProxyHeaderParser({ versions: [1] }).push(V1).status).toBe('complete');
  });

  it.each([
    [{ maxBytes: 51 }],
    [{ maxBytes: 65552 }],
    [{ maxBytes: 100.5 }],
    [{ maxBytes: Number.NaN }],
    [{ versions: [] }],
    [{ versions: [3] }],
  ] as unknown as Array<[ParserOptions]>)('refuses options %j', (options) => {
    expect(() => new ProxyHeaderParser(options)).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});
