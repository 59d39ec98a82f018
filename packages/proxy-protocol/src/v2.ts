// The binary v2 header: 12-byte signature, version/command, family/transport, 16-bit length,
// then that many bytes of addresses and TLVs. The length is checked against the caller's
// bound as soon as it arrives, so a sender cannot make the receiver buffer more than that.
import { formatIpv4, formatIpv6, identityAddress } from './address.js';
import { V2_ADDRESS_LENGTH, V2_FIXED_LENGTH, V2_SIGNATURE, V2_UNIX_PATH_LENGTH } from './constants.js';
import { refuse } from './refusal.js';
import { parseTlvs } from './tlv.js';
import type { PrefixParseResult, ProxyAddresses, ProxyClient, ProxyHeader, ProxyTransport } from './types.js';

const FAMILIES = ['unspec', 'ipv4', 'ipv6', 'unix'] as const;
const TRANSPORTS = ['unspec', 'stream', 'dgram'] as const;

/** Parse a v2 header from the start of `bytes` (bytes[0] is CR). */
export function parseV2(bytes: Uint8Array, maxBytes: number): PrefixParseResult {
  const signatureLength = Math.min(bytes.length, V2_SIGNATURE.length);
  for (let i = 0; i < signatureLength; i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) {
      return refuse('not_proxy_protocol', 'not a PROXY header: the v2 signature does not match');
    }
  }
  if (bytes.length < 13) return { status: 'incomplete' };
  const version = bytes[12]! >> 4;
  const commandCode = bytes[12]! & 0x0f;
  if (version !== 2) return refuse('v2_bad_version', `v2 header has version ${version}, not 2`);
  if (commandCode > 1) {
    return refuse('v2_bad_command', `v2 header has command ${commandCode}, neither LOCAL (0) nor PROXY (1)`);
  }
  if (bytes.length < 14) return { status: 'incomplete' };
  const familyCode = bytes[13]! >> 4;
  const transportCode = bytes[13]! & 0x0f;
  const family = FAMILIES[familyCode];
  const transport = TRANSPORTS[transportCode];
  if (family === undefined) return refuse('v2_bad_family', `v2 header has address family ${familyCode}`);
  if (transport === undefined) return refuse('v2_bad_transport', `v2 header has transport ${transportCode}`);
  const local = commandCode === 0;
  // LOCAL ignores the family byte (the spec); PROXY must name both or neither, or the
  // receiver cannot know how long the address block is.
  if (!local && family === 'unspec' && transport !== 'unspec') {
    return refuse(
      'v2_bad_family',
      `v2 PROXY header has family UNSPEC with transport ${transport.toUpperCase()}`,
    );
  }
  if (!local && family !== 'unspec' && transport === 'unspec') {
    return refuse('v2_bad_transport', `v2 PROXY header has family ${family} with transport UNSPEC`);
  }
  if (bytes.length < V2_FIXED_LENGTH) return { status: 'incomplete' };
  const total = V2_FIXED_LENGTH + ((bytes[14]! << 8) | bytes[15]!);
  if (total > maxBytes) {
    return refuse(
      'v2_header_too_long',
      `v2 header announces ${total} bytes; at most ${maxBytes} are accepted`,
    );
  }
  if (bytes.length < total) return { status: 'incomplete' };
  const header = bytes.subarray(0, total);
  const addressLength = family === 'unspec' || transport === 'unspec' ? 0 : V2_ADDRESS_LENGTH[family];
  const bodyLength = total - V2_FIXED_LENGTH;

  let addresses: ProxyAddresses | null = null;
  let client: ProxyClient;
  let tlvStart: number;
  if (local) {
    // The spec: the receiver "must use the real connection endpoints and discard the protocol
    // block". TLVs after a whole address block are still checked (a CRC32C must match).
    client = { use: 'socket', reason: 'v2-local' };
    tlvStart = bodyLength >= addressLength ? V2_FIXED_LENGTH + addressLength : total;
  } else if (family === 'unspec' || transport === 'unspec') {
    client = { use: 'socket', reason: 'v2-unspec' };
    tlvStart = V2_FIXED_LENGTH;
  } else {
    if (bodyLength < addressLength) {
      return refuse(
        'v2_address_too_short',
        `v2 ${family} header has ${bodyLength} address bytes; the family needs ${addressLength}`,
      );
    }
    const parsed = readAddresses(header, family, transport);
    addresses = parsed.addresses;
    client = parsed.client;
    tlvStart = V2_FIXED_LENGTH + addressLength;
  }
  const tlvs = parseTlvs(header, tlvStart);
  if (!Array.isArray(tlvs)) return tlvs;
  const result: ProxyHeader = {
    version: 2,
    command: local ? 'local' : 'proxy',
    addresses,
    tlvs,
    client,
    length: total,
  };
  return { status: 'complete', header: result, consumed: total };
}

function readAddresses(
  header: Uint8Array,
  family: 'ipv4' | 'ipv6' | 'unix',
  transport: ProxyTransport,
): { addresses: ProxyAddresses; client: ProxyClient } {
  const at = V2_FIXED_LENGTH;
  if (family === 'unix') {
    return {
      addresses: {
        family,
        transport,
        source: unixPath(header, at),
        destination: unixPath(header, at + V2_UNIX_PATH_LENGTH),
      },
      client: { use: 'none', reason: 'unix' },
    };
  }
  const size = family === 'ipv4' ? 4 : 16;
  const format = family === 'ipv4' ? formatIpv4 : formatIpv6;
  const portsAt = at + 2 * size;
  const sourcePort = (header[portsAt]! << 8) | header[portsAt + 1]!;
  const destinationPort = (header[portsAt + 2]! << 8) | header[portsAt + 3]!;
  return {
    addresses: {
      family,
      transport,
      source: { address: format(header, at), port: sourcePort },
      destination: { address: format(header, at + size), port: destinationPort },
    },
    client: { use: 'header', address: identityAddress(family, header, at), port: sourcePort },
  };
}

/** A sun_path: NUL-padded; a leading NUL marks a Linux abstract socket, shown as `@name`. */
function unixPath(header: Uint8Array, offset: number): string {
  const path = header.subarray(offset, offset + V2_UNIX_PATH_LENGTH);
  const abstract = path[0] === 0 && path.some((b) => b !== 0);
  const from = abstract ? 1 : 0;
  let to = path.indexOf(0, from);
  if (to < 0) to = path.length;
  const name = Buffer.from(path.buffer, path.byteOffset + from, to - from).toString('utf8');
  return abstract ? `@${name}` : name;
}
