// The human-readable v1 header: one US-ASCII line,
//   PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n    or    PROXY UNKNOWN[ anything]\r\n
// at most 107 bytes, fields separated by exactly one space. Anything that does not match
// exactly is refused (the spec: "any sequence which does not exactly match the protocol
// must be discarded").
import { formatIpv4, formatIpv6, identityAddress, parseIpv4Text, parseIpv6Text } from './address.js';
import { V1_MAX_LENGTH, V1_PREFIX } from './constants.js';
import { quote, refuse } from './refusal.js';
import type { ParseRefusal, PrefixParseResult, ProxyHeader } from './types.js';

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'] as const;
const PORT = /^(0|[1-9]\d{0,4})$/;

/**
 * Parse a v1 header from the start of `bytes` (the bytes received so far; bytes[0] is 'P').
 * Bytes are checked in order and the first one that cannot belong to a valid line decides
 * the refusal, so the answer does not depend on how the line was split into segments; a
 * bad byte or an unknown protocol word is refused before the CRLF arrives.
 */
export function parseV1(bytes: Uint8Array): PrefixParseResult {
  const prefixLength = Math.min(bytes.length, V1_PREFIX.length);
  for (let i = 0; i < prefixLength; i++) {
    if (bytes[i] !== V1_PREFIX[i]) {
      return refuse('not_proxy_protocol', 'not a PROXY header: a v1 header starts with "PROXY "');
    }
  }
  const scanLength = Math.min(bytes.length, V1_MAX_LENGTH);
  let inProtocol = true;
  for (let i = V1_PREFIX.length; i < scanLength; i++) {
    const byte = bytes[i]!;
    if (inProtocol && (byte === SPACE || byte === CR)) {
      // The protocol word ends here: it must be a whole known one.
      const word = latin1(bytes, V1_PREFIX.length, i);
      if (!(PROTOCOLS as readonly string[]).includes(word)) return badProtocol(word);
      inProtocol = false;
    }
    if (byte === CR) {
      if (i + 1 >= V1_MAX_LENGTH) break;
      if (i + 1 >= bytes.length) return { status: 'incomplete' };
      if (bytes[i + 1] !== LF) return refuse('v1_bad_line_ending', 'v1 line has a CR not followed by LF');
      return parseLine(bytes, i);
    }
    if (byte === LF) return refuse('v1_bad_line_ending', 'v1 line ends with LF without CR (CRLF required)');
    if (byte < SPACE || byte > 0x7e) {
      return refuse('v1_bad_character', `v1 line has byte 0x${byte.toString(16).padStart(2, '0')} at ${i}`);
    }
    if (inProtocol && !beginsProtocol(bytes, i + 1)) {
      return badProtocol(latin1(bytes, V1_PREFIX.length, i + 1));
    }
  }
  if (bytes.length >= V1_MAX_LENGTH) {
    return refuse('v1_line_too_long', `v1 line has no CRLF within the first ${V1_MAX_LENGTH} bytes`);
  }
  return { status: 'incomplete' };
}

const PROTOCOL_BYTES = PROTOCOLS.map((p) => Buffer.from(p, 'latin1'));

/** Whether the bytes from the prefix to `end` begin one of the protocol words. */
function beginsProtocol(bytes: Uint8Array, end: number): boolean {
  const length = end - V1_PREFIX.length;
  return PROTOCOL_BYTES.some((word) => {
    if (length > word.length) return false;
    for (let j = 0; j < length; j++) if (bytes[V1_PREFIX.length + j] !== word[j]) return false;
    return true;
  });
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

function badProtocol(text: string): ParseRefusal {
  return refuse('v1_bad_protocol', `v1 protocol ${quote(text)} is not TCP4, TCP6 or UNKNOWN`);
}

/** The whole line has arrived: the CR is at `crIndex`; every byte before it is printable. */
function parseLine(bytes: Uint8Array, crIndex: number): PrefixParseResult {
  const length = crIndex + 2;
  const start = V1_PREFIX.length;
  const text = latin1(bytes, start, crIndex);
  const fields = text.split(' ');
  const protocol = fields[0]!;
  if (protocol === 'UNKNOWN') {
    // The spec: for UNKNOWN "the receiver must ignore anything presented before the CRLF".
    const header: ProxyHeader = {
      version: 1,
      command: 'unknown',
      addresses: null,
      tlvs: [],
      client: { use: 'socket', reason: 'v1-unknown' },
      length,
    };
    return { status: 'complete', header, consumed: length };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return badProtocol(protocol);
  if (fields.length !== 5 || fields.includes('')) {
    return refuse(
      'v1_bad_syntax',
      `v1 line ${quote(text)} is not "${protocol} <src> <dst> <sport> <dport>" with single spaces`,
    );
  }
  const family = protocol === 'TCP4' ? 'ipv4' : 'ipv6';
  const source = parseAddress(family, fields[1]!, 'source');
  if (!(source instanceof Uint8Array)) return source;
  const destination = parseAddress(family, fields[2]!, 'destination');
  if (!(destination instanceof Uint8Array)) return destination;
  const sourcePort = parsePort(fields[3]!, 'source');
  if (typeof sourcePort !== 'number') return sourcePort;
  const destinationPort = parsePort(fields[4]!, 'destination');
  if (typeof destinationPort !== 'number') return destinationPort;
  const format = family === 'ipv4' ? formatIpv4 : formatIpv6;
  const header: ProxyHeader = {
    version: 1,
    command: 'proxy',
    addresses: {
      family,
      transport: 'stream',
      source: { address: format(source), port: sourcePort },
      destination: { address: format(destination), port: destinationPort },
    },
    tlvs: [],
    client: { use: 'header', address: identityAddress(family, source), port: sourcePort },
    length,
  };
  return { status: 'complete', header, consumed: length };
}

function parseAddress(
  family: 'ipv4' | 'ipv6',
  text: string,
  which: 'source' | 'destination',
): Uint8Array | ParseRefusal {
  const bytes = family === 'ipv4' ? parseIpv4Text(text) : parseIpv6Text(text);
  if (bytes !== null) return bytes;
  const other = family === 'ipv4' ? parseIpv6Text(text) : parseIpv4Text(text);
  if (other !== null) {
    const protocol = family === 'ipv4' ? 'TCP4' : 'TCP6';
    const otherName = family === 'ipv4' ? 'IPv6' : 'IPv4';
    return refuse(
      'v1_family_mismatch',
      `v1 ${protocol} line has ${otherName} ${which} address ${quote(text)}`,
    );
  }
  const expected =
    family === 'ipv4'
      ? 'four decimal numbers 0-255 without leading zeros'
      : 'hex groups separated by colons, at most one "::", no zone';
  return refuse('v1_bad_address', `v1 ${which} address ${quote(text)} is not ${family} (${expected})`);
}

function parsePort(text: string, which: 'source' | 'destination'): number | ParseRefusal {
  const value = PORT.test(text) ? Number(text) : -1;
  if (value < 0 || value > 0xffff) {
    return refuse('v1_bad_port', `v1 ${which} port ${quote(text)} is not 0-65535 without leading zeros`);
  }
  return value;
}
