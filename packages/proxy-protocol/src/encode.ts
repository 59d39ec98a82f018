// Headers Podgate sends to an upstream whose endpoint sets `upstream.proxyProtocolVersion`,
// to tell it the original client. Inputs come from Node's sockets (remoteAddress and
// friends), so IPv4 peers of a dual-stack listener arrive as `::ffff:a.b.c.d`: those are sent
// as IPv4 when the other address is IPv4 too. A header cannot mix families, so when one
// address is IPv6 the other is sent as IPv4-mapped IPv6 (TCP6 / AF_INET6).
import { formatIpv4, formatIpv6, isIpv4Mapped, parseIpv4Text, parseIpv6Text } from './address.js';
import {
  TLV_TYPES,
  V1_PREFIX,
  V2_ADDRESS_LENGTH,
  V2_FIXED_LENGTH,
  V2_MAX_BODY_LENGTH,
  V2_SIGNATURE,
} from './constants.js';
import { crc32c } from './crc32c.js';
import { ProxyProtocolError } from './errors.js';
import { tlvBytes, writeTlvs } from './tlv.js';
import type { ProxyTlv, ProxyVersion } from './types.js';

export interface EncodeEndpoint {
  /** IPv4 or IPv6 text as Node reports it; no zone. */
  readonly address: string;
  readonly port: number;
}

export interface EncodeInput {
  readonly source: EncodeEndpoint;
  readonly destination: EncodeEndpoint;
}

export interface EncodeV2Options {
  /** Sent in order after the addresses. Type 0x03 (CRC32C) is refused: use `crc32c`. */
  readonly tlvs?: readonly ProxyTlv[];
  /** Append a CRC32C TLV computed over the whole header. */
  readonly crc32c?: boolean;
}

interface Pair {
  readonly family: 'ipv4' | 'ipv6';
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/** `PROXY TCP4|TCP6 src dst sport dport\r\n`. Throws `invalid_address` on what cannot be sent. */
export function encodeProxyHeaderV1(input: EncodeInput): Buffer {
  const pair = addressPair(input);
  const format = pair.family === 'ipv4' ? formatIpv4 : (bytes: Uint8Array) => formatIpv6(bytes, 0, false);
  const protocol = pair.family === 'ipv4' ? 'TCP4' : 'TCP6';
  const line = `${V1_PREFIX.toString('latin1')}${protocol} ${format(pair.source)} ${format(pair.destination)} ${port(input.source.port)} ${port(input.destination.port)}\r\n`;
  return Buffer.from(line, 'latin1');
}

/** `PROXY UNKNOWN\r\n`: the receiver is to use the connection's own addresses. */
export function encodeProxyHeaderV1Unknown(): Buffer {
  return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
}

/** A v2 PROXY header for TCP over IPv4 or IPv6, with optional TLVs. */
export function encodeProxyHeaderV2(input: EncodeInput, options: EncodeV2Options = {}): Buffer {
  const pair = addressPair(input);
  const addressLength = V2_ADDRESS_LENGTH[pair.family];
  const header = v2Header(0x21, pair.family === 'ipv4' ? 0x11 : 0x21, addressLength, options);
  let at = V2_FIXED_LENGTH;
  header.set(pair.source, at);
  at += pair.source.length;
  header.set(pair.destination, at);
  at += pair.destination.length;
  header.writeUInt16BE(port(input.source.port), at);
  header.writeUInt16BE(port(input.destination.port), at + 2);
  finishV2(header, V2_FIXED_LENGTH + addressLength, options);
  return header;
}

/** A v2 LOCAL header (AF_UNSPEC, no addresses): a connection the sender made for itself. */
export function encodeProxyHeaderV2Local(options: EncodeV2Options = {}): Buffer {
  const header = v2Header(0x20, 0x00, 0, options);
  finishV2(header, V2_FIXED_LENGTH, options);
  return header;
}

/** v1 or v2 by the endpoint's `upstream.proxyProtocolVersion`. */
export function encodeProxyHeader(version: ProxyVersion, input: EncodeInput): Buffer {
  return version === 1 ? encodeProxyHeaderV1(input) : encodeProxyHeaderV2(input);
}

function v2Header(
  versionCommand: number,
  familyTransport: number,
  addressLength: number,
  options: EncodeV2Options,
): Buffer {
  const tlvs = options.tlvs ?? [];
  for (const tlv of tlvs) checkTlv(tlv);
  const bodyLength = addressLength + tlvBytes(tlvs) + (options.crc32c ? 7 : 0);
  if (bodyLength > V2_MAX_BODY_LENGTH) {
    throw new ProxyProtocolError(
      'header_too_long',
      `v2 header body would be ${bodyLength} bytes; at most 65535`,
    );
  }
  const header = Buffer.alloc(V2_FIXED_LENGTH + bodyLength);
  header.set(V2_SIGNATURE, 0);
  header[12] = versionCommand;
  header[13] = familyTransport;
  header.writeUInt16BE(bodyLength, 14);
  return header;
}

/** Write the TLVs from `at`, then the CRC32C TLV last, computed with its value zeroed. */
function finishV2(header: Buffer, at: number, options: EncodeV2Options): void {
  const end = writeTlvs(header, at, options.tlvs ?? []);
  if (!options.crc32c) return;
  header[end] = TLV_TYPES.CRC32C;
  header.writeUInt16BE(4, end + 1);
  header.writeUInt32BE(crc32c(header), end + 3);
}

function checkTlv(tlv: ProxyTlv): void {
  if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff) {
    throw new ProxyProtocolError('invalid_tlv', `TLV type must be an integer 0-255, got ${String(tlv.type)}`);
  }
  if (tlv.type === TLV_TYPES.CRC32C) {
    throw new ProxyProtocolError(
      'invalid_tlv',
      'TLV type 0x03 (CRC32C) is computed by the encoder: set crc32c',
    );
  }
  if (!(tlv.value instanceof Uint8Array) || tlv.value.length > V2_MAX_BODY_LENGTH) {
    throw new ProxyProtocolError('invalid_tlv', 'TLV value must be bytes, at most 65535 of them');
  }
}

function addressPair(input: EncodeInput): Pair {
  const source = parseAddress(input.source.address, 'source');
  const destination = parseAddress(input.destination.address, 'destination');
  if (source.length === 4 && destination.length === 4) return { family: 'ipv4', source, destination };
  return { family: 'ipv6', source: toIpv6(source), destination: toIpv6(destination) };
}

/** 4 bytes for IPv4 and IPv4-mapped IPv6, 16 for other IPv6. */
function parseAddress(text: string, which: string): Uint8Array {
  const v4 = typeof text === 'string' ? parseIpv4Text(text) : null;
  if (v4 !== null) return v4;
  const v6 = typeof text === 'string' ? parseIpv6Text(text) : null;
  if (v6 === null) {
    const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, 64)) : String(text);
    throw new ProxyProtocolError(
      'invalid_address',
      `${which} address ${shown} is not IPv4 or IPv6 without a zone`,
    );
  }
  return isIpv4Mapped(v6) ? v6.subarray(12) : v6;
}

function toIpv6(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 16) return bytes;
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped.set(bytes, 12);
  return mapped;
}

function port(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new ProxyProtocolError('invalid_address', `port must be an integer 0-65535, got ${String(value)}`);
  }
  return value;
}
