// PROXY protocol v1/v2 headers, as an untrusted peer sends them. Invariants: the parser never
// throws (a refusal is its typed answer); pushing the bytes in pieces gives the same answer
// as the whole; a complete header re-encodes (encode(parse(x))) to a header that parses to
// the same client and ports; a complete header is never longer than the spec allows.
import {
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  type ParseResult,
  type ProxyHeader,
  ProxyHeaderParser,
  parseProxyHeader,
} from '@podgate/proxy-protocol';
import { FuzzFinding, type FuzzTarget } from '../harness.js';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(command: number, family: number, body: Buffer): Uint8Array {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([SIGNATURE, Buffer.of(0x20 | command, family), length, body]);
}

export function proxyProtocolTarget(version: 1 | 2): FuzzTarget {
  return {
    name: `proxy-v${version}`,
    coverPaths: ['/packages/proxy-protocol/src/'],
    maxLength: version === 1 ? 160 : 600,
    dictionary:
      version === 1
        ? [
            'PROXY ',
            'TCP4 ',
            'TCP6 ',
            'UNKNOWN',
            '\r\n',
            ' ',
            '::',
            '::ffff:',
            '.',
            ':',
            '255.255.255.255',
            '0',
            '65535',
            '01',
            'ffff',
          ]
        : [
            SIGNATURE.toString('latin1'),
            '\x21',
            '\x20',
            '\x11',
            '\x21',
            '\x31',
            '\x12',
            '\x00\x0c',
            '\x03\x00\x04',
            '\x04\x00\x00',
            '\xe0\x00\x01x',
            '\xff\xff',
          ],
    seeds: () =>
      version === 1
        ? [
            'PROXY TCP4 127.0.0.2 127.0.0.1 40000 443\r\n',
            'PROXY TCP6 ::1 ::ffff:127.0.0.1 1 2\r\n',
            'PROXY TCP6 fd00:0:0:0:0:0:0:7 ::1 65535 0\r\nGET / HTTP/1.1\r\n',
            'PROXY UNKNOWN whatever\r\n',
          ].map((s) => Buffer.from(s, 'latin1'))
        : [
            encodeProxyHeaderV2({
              source: { address: '127.0.0.2', port: 40000 },
              destination: { address: '127.0.0.1', port: 443 },
            }),
            encodeProxyHeaderV2(
              { source: { address: '::1', port: 1 }, destination: { address: 'fd00::7', port: 2 } },
              { tlvs: [{ type: 0x01, value: Buffer.from('h2') }], crc32c: true },
            ),
            v2(0, 0x00, Buffer.alloc(0)),
            v2(1, 0x31, Buffer.alloc(216, 0x61)),
            v2(1, 0x12, Buffer.alloc(12)),
          ],
    run(input) {
      const whole = parseProxyHeader(input);
      const split = push(
        input,
        1 + (input.length > 0 ? input[input.length - 1]! % Math.max(1, input.length) : 0),
      );
      if (
        whole.status !== split.status ||
        (whole.status === 'refused' && split.status === 'refused' && whole.code !== split.code)
      ) {
        throw new FuzzFinding(`split answer ${describe(split)} differs from whole ${describe(whole)}`);
      }
      if (whole.status !== 'complete') return;
      const { header } = whole;
      if (header.length > (header.version === 1 ? 107 : 4112))
        throw new FuzzFinding(`header of ${header.length} bytes accepted`);
      roundTrip(header);
    },
  };
}

function push(input: Uint8Array, cut: number): ParseResult {
  const parser = new ProxyHeaderParser();
  const first = parser.push(input.subarray(0, cut));
  if (first.status !== 'incomplete') return first;
  return parser.push(input.subarray(cut));
}

function describe(r: ParseResult | ReturnType<typeof parseProxyHeader>): string {
  return r.status === 'refused' ? `refused:${r.code}` : r.status;
}

/** encode(parse(x)) parses to the same client: what Podgate forwards is what it was told. */
function roundTrip(header: ProxyHeader): void {
  const a = header.addresses;
  if (a === null || a.family === 'unix' || a.transport !== 'stream') return;
  const input = { source: a.source, destination: a.destination };
  const tlvs = header.tlvs.filter((t) => t.type !== 0x03);
  const crc = header.tlvs.length !== tlvs.length;
  const bytes =
    header.version === 1 ? encodeProxyHeaderV1(input) : encodeProxyHeaderV2(input, { tlvs, crc32c: crc });
  const again = parseProxyHeader(bytes);
  if (again.status !== 'complete') throw new FuzzFinding(`re-encoded header is ${describe(again)}`);
  const h = again.header;
  if (JSON.stringify(h.client) !== JSON.stringify(header.client)) {
    throw new FuzzFinding(
      `client ${JSON.stringify(header.client)} re-encodes as ${JSON.stringify(h.client)}`,
    );
  }
  const b = h.addresses;
  if (b === null || b.family === 'unix' || b.destination.port !== a.destination.port) {
    throw new FuzzFinding('destination port lost in the round trip');
  }
  if (header.version === 2) {
    const kept = h.tlvs.filter((t) => t.type !== 0x03);
    if (
      kept.length !== tlvs.length ||
      kept.some((t, i) => t.type !== tlvs[i]!.type || !t.value.equals(tlvs[i]!.value))
    ) {
      throw new FuzzFinding('TLVs changed in the round trip');
    }
  }
}
