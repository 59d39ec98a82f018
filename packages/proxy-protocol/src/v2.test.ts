// v2 headers built byte by byte from the spec's layout, through the public parser.
import { describe, expect, it } from 'vitest';
import { V2_SIGNATURE } from './constants.js';
import { crc32c } from './crc32c.js';
import type { ParseRefusalCode } from './errors.js';
import { parseProxyHeader } from './parser.js';

/** Signature, version/command, family/transport, length (of `body` unless given), body. */
function rawV2(
  versionCommand: number,
  familyTransport: number,
  body: ArrayLike<number>,
  length?: number,
): Buffer {
  const header = Buffer.alloc(16 + body.length);
  V2_SIGNATURE.copy(header);
  header[12] = versionCommand;
  header[13] = familyTransport;
  header.writeUInt16BE(length ?? body.length, 14);
  header.set(Array.from(body), 16);
  return header;
}

const tlv = (type: number, value: ArrayLike<number> | string) => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(Array.from(value));
  return [type, bytes.length >> 8, bytes.length & 0xff, ...bytes];
};
const IPV4_BLOCK = [10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0x01, 0xbb]; // 10.0.0.1:40000 -> 10.0.0.2:443
const IPV6_BLOCK = [
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1],
  ...[0xff, 0xff, 0x00, 0x50],
];
const sunPath = (text: string, abstract = false) => {
  const path = Buffer.alloc(108);
  Buffer.from(text).copy(path, abstract ? 1 : 0);
  return Array.from(path);
};

/** A header whose last TLV is a CRC32C computed over the whole header. */
function withCrc(versionCommand: number, familyTransport: number, body: number[]): Buffer {
  const header = rawV2(versionCommand, familyTransport, [...body, ...tlv(0x03, [0, 0, 0, 0])]);
  header.writeUInt32BE(crc32c(header), header.length - 4);
  return header;
}

describe('v2: accepted', () => {
  it('parses a TCP over IPv4 header as HAProxy sends it and leaves the payload', () => {
    const header = Buffer.from('0d0a0d0a000d0a515549540a2111000cac130001ac130003a6520050', 'hex');
    const bytes = Buffer.concat([header, Buffer.from('GET / HTTP/1.1\r\n')]);
    expect(parseProxyHeader(bytes)).toEqual({
      status: 'complete',
      consumed: 28,
      header: {
        version: 2,
        command: 'proxy',
        addresses: {
          family: 'ipv4',
          transport: 'stream',
          source: { address: '172.19.0.1', port: 42578 },
          destination: { address: '172.19.0.3', port: 80 },
        },
        tlvs: [],
        client: { use: 'header', address: '172.19.0.1', port: 42578 },
        length: 28,
      },
    });
  });

  it('parses TCP over IPv6; a mapped destination is shown mixed', () => {
    const result = parseProxyHeader(rawV2(0x21, 0x21, IPV6_BLOCK));
    expect(result.status === 'complete' && result.header.addresses).toEqual({
      family: 'ipv6',
      transport: 'stream',
      source: { address: '2001:db8::1', port: 65535 },
      destination: { address: '::ffff:192.0.2.1', port: 80 },
    });
  });

  it('gives an IPv4-mapped IPv6 client in identity form', () => {
    const block = [...IPV6_BLOCK.slice(16, 32), ...IPV6_BLOCK.slice(0, 16), 0, 1, 0, 2];
    const result = parseProxyHeader(rawV2(0x21, 0x21, block));
    expect(result.status === 'complete' && result.header.client).toEqual({
      use: 'header',
      address: '192.0.2.1',
      port: 1,
    });
  });

  it('reports UDP as dgram', () => {
    const result = parseProxyHeader(rawV2(0x21, 0x12, IPV4_BLOCK));
    expect(result.status === 'complete' && result.header.addresses?.transport).toBe('dgram');
  });

  it('lists TLVs in wire order, unknown and custom types included', () => {
    const body = [
      ...IPV4_BLOCK,
      ...tlv(0x01, 'h2'),
      ...tlv(0x02, 'example.com'),
      ...tlv(0x04, []),
      ...tlv(0x05, [1, 2, 3]),
      ...tlv(0xe0, [0xff]),
      ...tlv(0x99, 'x'),
    ];
    const result = parseProxyHeader(rawV2(0x21, 0x11, body));
    if (result.status !== 'complete') throw new Error(JSON.stringify(result));
    expect(result.header.tlvs.map((t) => [t.type, t.value.toString('latin1')])).toEqual([
      [0x01, 'h2'],
      [0x02, 'example.com'],
      [0x04, ''],
      [0x05, '\x01\x02\x03'],
      [0xe0, '\xff'],
      [0x99, 'x'],
    ]);
    expect(result.consumed).toBe(16 + body.length);
  });

  it('accepts a matching CRC32C', () => {
    const result = parseProxyHeader(withCrc(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x05, 'id-1')]));
    expect(result.status === 'complete' && result.header.tlvs.map((t) => t.type)).toEqual([0x05, 0x03]);
  });

  it.each([
    ['with no addresses', 0x00, []],
    ['with an IPv4 block it ignores', 0x11, IPV4_BLOCK],
    ['with a family but a length of 0', 0x21, []],
    ['with transport UNSPEC', 0x10, []],
  ])('LOCAL %s means "use the socket"', (_, familyTransport, body) => {
    const result = parseProxyHeader(rawV2(0x20, familyTransport, body));
    expect(result.status === 'complete' && result.header).toMatchObject({
      version: 2,
      command: 'local',
      addresses: null,
      tlvs: [],
      client: { use: 'socket', reason: 'v2-local' },
    });
  });

  it('checks the TLVs of a LOCAL header after its address block', () => {
    const good = withCrc(0x20, 0x11, [...IPV4_BLOCK, ...tlv(0x04, [0])]);
    const result = parseProxyHeader(good);
    expect(result.status === 'complete' && result.header.tlvs.map((t) => t.type)).toEqual([0x04, 0x03]);
    good[16] = good[16]! ^ 1;
    expect(parseProxyHeader(good)).toMatchObject({ status: 'refused', code: 'v2_crc32c_mismatch' });
  });

  it('PROXY with AF_UNSPEC means "use the socket", TLVs still read', () => {
    const result = parseProxyHeader(rawV2(0x21, 0x00, tlv(0x02, 'example.com')));
    expect(result.status === 'complete' && result.header).toMatchObject({
      command: 'proxy',
      addresses: null,
      client: { use: 'socket', reason: 'v2-unspec' },
    });
    expect(result.status === 'complete' && result.header.tlvs[0]?.value.toString()).toBe('example.com');
  });

  it('parses AF_UNIX paths (abstract ones with "@") and says they are no identity', () => {
    const body = [...sunPath('/run/podgate.sock'), ...sunPath('backend', true)];
    const result = parseProxyHeader(rawV2(0x21, 0x31, body));
    expect(result.status === 'complete' && result.header).toMatchObject({
      addresses: {
        family: 'unix',
        transport: 'stream',
        source: '/run/podgate.sock',
        destination: '@backend',
      },
      client: { use: 'none', reason: 'unix' },
    });
  });

  it('answers incomplete for every proper prefix', () => {
    const header = withCrc(0x21, 0x21, [...IPV6_BLOCK, ...tlv(0x01, 'h2')]);
    for (let i = 0; i < header.length; i++) {
      expect(parseProxyHeader(header.subarray(0, i))).toEqual({ status: 'incomplete' });
    }
  });

  it('takes a length up to maxBytes, and the 65535 the field allows when configured', () => {
    const body = [...IPV4_BLOCK, ...tlv(0x04, new Array(4096 - 12 - 3).fill(0))];
    expect(parseProxyHeader(rawV2(0x21, 0x11, body)).status).toBe('complete');
    const big = [...IPV4_BLOCK, ...tlv(0x04, new Array(65535 - 12 - 3).fill(0))];
    expect(parseProxyHeader(rawV2(0x21, 0x11, big), { maxBytes: 65551 }).status).toBe('complete');
  });
});

describe('v2: refused', () => {
  const cases: Array<[string, Buffer, ParseRefusalCode]> = [
    ['a bad signature byte', Buffer.from('0d0a0d0a000d0a515549540b21110000', 'hex'), 'not_proxy_protocol'],
    ['a v1-style CRLF start', Buffer.from('\r\nGET / HTTP/1.1\r\n'), 'not_proxy_protocol'],
    ['version 1', rawV2(0x11, 0x11, IPV4_BLOCK), 'v2_bad_version'],
    ['version 3', rawV2(0x31, 0x11, IPV4_BLOCK), 'v2_bad_version'],
    ['version 0', rawV2(0x01, 0x11, IPV4_BLOCK), 'v2_bad_version'],
    ['command 2', rawV2(0x22, 0x11, IPV4_BLOCK), 'v2_bad_command'],
    ['command 15', rawV2(0x2f, 0x11, IPV4_BLOCK), 'v2_bad_command'],
    ['family 4', rawV2(0x21, 0x41, IPV4_BLOCK), 'v2_bad_family'],
    ['family 15 on LOCAL', rawV2(0x20, 0xf0, []), 'v2_bad_family'],
    ['transport 3', rawV2(0x21, 0x13, IPV4_BLOCK), 'v2_bad_transport'],
    ['transport 3 on LOCAL', rawV2(0x20, 0x03, []), 'v2_bad_transport'],
    ['UNSPEC family with STREAM', rawV2(0x21, 0x01, IPV4_BLOCK), 'v2_bad_family'],
    ['IPv4 with UNSPEC transport', rawV2(0x21, 0x10, IPV4_BLOCK), 'v2_bad_transport'],
    ['IPv4 with 11 address bytes', rawV2(0x21, 0x11, IPV4_BLOCK.slice(0, 11)), 'v2_address_too_short'],
    ['IPv4 with none', rawV2(0x21, 0x11, []), 'v2_address_too_short'],
    ['IPv6 with an IPv4 block', rawV2(0x21, 0x21, IPV4_BLOCK), 'v2_address_too_short'],
    ['AF_UNIX with 215 bytes', rawV2(0x21, 0x31, new Array(215).fill(0)), 'v2_address_too_short'],
    ['one byte after the addresses', rawV2(0x21, 0x11, [...IPV4_BLOCK, 1]), 'v2_tlv_overrun'],
    ['two bytes after the addresses', rawV2(0x21, 0x11, [...IPV4_BLOCK, 1, 0]), 'v2_tlv_overrun'],
    [
      'a TLV longer than the header',
      rawV2(0x21, 0x11, [...IPV4_BLOCK, 0x01, 0, 10, 1, 2, 3]),
      'v2_tlv_overrun',
    ],
    [
      'a TLV that overruns after a good one',
      rawV2(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x04, [0]), 0x02, 0xff, 0xff]),
      'v2_tlv_overrun',
    ],
    ['a 3-byte CRC32C', rawV2(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x03, [0, 0, 0])]), 'v2_crc32c_malformed'],
    [
      'two CRC32C TLVs',
      rawV2(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x03, [0, 0, 0, 0]), ...tlv(0x03, [0, 0, 0, 0])]),
      'v2_crc32c_malformed',
    ],
    ['a zero CRC32C', rawV2(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x03, [0, 0, 0, 0])]), 'v2_crc32c_mismatch'],
  ];

  it.each(cases)('%s', (_, bytes, code) => {
    expect(parseProxyHeader(bytes)).toMatchObject({ status: 'refused', code });
  });

  it('refuses a CRC32C that no longer matches after any one bit changes', () => {
    const header = withCrc(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x02, 'example.com')]);
    // Every byte after the fixed part that leaves the framing intact: addresses and values.
    const positions = [16, 20, 27, 31, 35, header.length - 1];
    for (const position of positions) {
      const changed = Buffer.from(header);
      changed[position] = changed[position]! ^ 0x10;
      expect(parseProxyHeader(changed)).toMatchObject({ status: 'refused', code: 'v2_crc32c_mismatch' });
    }
  });

  it('refuses a length over maxBytes as soon as the 16 fixed bytes are in', () => {
    const fixed = rawV2(0x21, 0x11, [], 4097);
    expect(parseProxyHeader(fixed)).toMatchObject({ status: 'refused', code: 'v2_header_too_long' });
    expect(parseProxyHeader(rawV2(0x21, 0x11, [], 4096))).toEqual({ status: 'incomplete' });
    expect(parseProxyHeader(rawV2(0x21, 0x11, [], 200), { maxBytes: 215 })).toMatchObject({
      code: 'v2_header_too_long',
    });
    expect(parseProxyHeader(rawV2(0x21, 0x11, [], 0xffff), { maxBytes: 65551 })).toEqual({
      status: 'incomplete',
    });
  });

  it('refuses bad version and command bytes before the rest arrives', () => {
    expect(parseProxyHeader(rawV2(0x11, 0x11, []).subarray(0, 13))).toMatchObject({ code: 'v2_bad_version' });
    expect(parseProxyHeader(rawV2(0x23, 0x11, []).subarray(0, 13))).toMatchObject({ code: 'v2_bad_command' });
    expect(parseProxyHeader(rawV2(0x21, 0x51, []).subarray(0, 14))).toMatchObject({ code: 'v2_bad_family' });
  });
});
