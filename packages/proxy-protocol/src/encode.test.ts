import { describe, expect, it } from 'vitest';
import {
  encodeProxyHeader,
  encodeProxyHeaderV1,
  encodeProxyHeaderV1Unknown,
  encodeProxyHeaderV2,
  encodeProxyHeaderV2Local,
} from './encode.js';
import { parseProxyHeader } from './parser.js';

const pair = (source: string, sourcePort: number, destination: string, destinationPort: number) => ({
  source: { address: source, port: sourcePort },
  destination: { address: destination, port: destinationPort },
});

describe('encodeProxyHeaderV1', () => {
  it.each([
    [pair('192.168.0.1', 56324, '192.168.0.11', 443), 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'],
    [pair('::ffff:10.1.2.3', 40000, '::ffff:10.0.0.1', 80), 'PROXY TCP4 10.1.2.3 10.0.0.1 40000 80\r\n'],
    [pair('::ffff:10.1.2.3', 40000, '10.0.0.1', 80), 'PROXY TCP4 10.1.2.3 10.0.0.1 40000 80\r\n'],
    [pair('2001:DB8:0:0:0:0:0:1', 1, '2001:db8::2', 2), 'PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'],
    // A header has one family: an IPv4 side of a mixed pair goes as IPv4-mapped IPv6, in hex.
    [pair('10.1.2.3', 0, '2001:db8::2', 65535), 'PROXY TCP6 ::ffff:a01:203 2001:db8::2 0 65535\r\n'],
    [pair('::ffff:10.1.2.3', 5, '::1', 6), 'PROXY TCP6 ::ffff:a01:203 ::1 5 6\r\n'],
  ])('%j', (input, want) => expect(encodeProxyHeaderV1(input).toString('latin1')).toBe(want));

  it('writes UNKNOWN in its short form', () => {
    expect(encodeProxyHeaderV1Unknown().toString('latin1')).toBe('PROXY UNKNOWN\r\n');
  });
});

describe('encodeProxyHeaderV2', () => {
  it('writes TCP over IPv4 byte for byte', () => {
    const bytes = encodeProxyHeaderV2(pair('172.19.0.1', 42578, '172.19.0.3', 80));
    expect(bytes.toString('hex')).toBe('0d0a0d0a000d0a515549540a2111000cac130001ac130003a6520050');
  });

  it('writes TCP over IPv6, and mapped client addresses as IPv4 when the other side is IPv4', () => {
    const v6 = encodeProxyHeaderV2(pair('2001:db8::1', 1, '::1', 2));
    expect(v6.subarray(12, 16).toString('hex')).toBe('21210024');
    expect(v6.length).toBe(16 + 36);
    const mapped = encodeProxyHeaderV2(pair('::ffff:127.0.0.2', 1, '127.0.0.1', 2));
    expect(mapped.subarray(12, 20).toString('hex')).toBe('2111000c7f000002');
  });

  it('writes TLVs in order and a CRC32C last that the parser accepts', () => {
    const bytes = encodeProxyHeaderV2(pair('10.0.0.1', 1, '10.0.0.2', 2), {
      tlvs: [
        { type: 0x02, value: Buffer.from('example.com') },
        { type: 0xe1, value: Buffer.alloc(0) },
      ],
      crc32c: true,
    });
    const result = parseProxyHeader(bytes);
    if (result.status !== 'complete') throw new Error(JSON.stringify(result));
    expect(result.header.tlvs.map((t) => t.type)).toEqual([0x02, 0xe1, 0x03]);
    expect(result.consumed).toBe(bytes.length);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    expect(parseProxyHeader(bytes)).toMatchObject({ code: 'v2_crc32c_mismatch' });
  });

  it('writes LOCAL with no addresses', () => {
    expect(encodeProxyHeaderV2Local().toString('hex')).toBe('0d0a0d0a000d0a515549540a20000000');
    const withCrc = parseProxyHeader(encodeProxyHeaderV2Local({ crc32c: true }));
    expect(withCrc.status === 'complete' && withCrc.header.command).toBe('local');
  });

  it('picks the version the endpoint asks for', () => {
    const input = pair('10.0.0.1', 1, '10.0.0.2', 2);
    expect(encodeProxyHeader(1, input)).toEqual(encodeProxyHeaderV1(input));
    expect(encodeProxyHeader(2, input)).toEqual(encodeProxyHeaderV2(input));
  });
});

describe('encoder refusals', () => {
  it.each([
    ['a zone', () => encodeProxyHeaderV1(pair('fe80::1%eth0', 1, '::1', 2)), 'invalid_address'],
    ['a host name', () => encodeProxyHeaderV2(pair('localhost', 1, '::1', 2)), 'invalid_address'],
    ['a leading zero', () => encodeProxyHeaderV2(pair('10.0.0.01', 1, '10.0.0.1', 2)), 'invalid_address'],
    ['port -1', () => encodeProxyHeaderV1(pair('10.0.0.1', -1, '10.0.0.2', 2)), 'invalid_address'],
    ['port 65536', () => encodeProxyHeaderV2(pair('10.0.0.1', 1, '10.0.0.2', 65536)), 'invalid_address'],
    ['port 1.5', () => encodeProxyHeaderV2(pair('10.0.0.1', 1.5, '10.0.0.2', 2)), 'invalid_address'],
    [
      'TLV type 256',
      () =>
        encodeProxyHeaderV2(pair('10.0.0.1', 1, '10.0.0.2', 2), {
          tlvs: [{ type: 256, value: Buffer.alloc(0) }],
        }),
      'invalid_tlv',
    ],
    [
      'a CRC32C TLV given by hand',
      () =>
        encodeProxyHeaderV2(pair('10.0.0.1', 1, '10.0.0.2', 2), {
          tlvs: [{ type: 3, value: Buffer.alloc(4) }],
        }),
      'invalid_tlv',
    ],
    [
      'a body over 65535 bytes',
      () =>
        encodeProxyHeaderV2(pair('10.0.0.1', 1, '10.0.0.2', 2), {
          tlvs: [
            { type: 4, value: Buffer.alloc(40_000) },
            { type: 4, value: Buffer.alloc(40_000) },
          ],
        }),
      'header_too_long',
    ],
  ])('%s', (_, encode, code) => {
    expect(encode).toThrow(expect.objectContaining({ name: 'ProxyProtocolError', code }));
  });
});
