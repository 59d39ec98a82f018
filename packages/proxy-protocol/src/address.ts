// IP addresses between text and the bytes a v2 header carries. v1 lines and the encoder's
// inputs are text; v2 headers are bytes; results are always canonical text, so that one
// address has one spelling whichever way it arrived.

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
// The longest IPv6 text: six full groups and a dotted quad.
const MAX_IPV6_TEXT = 45;

/**
 * A dotted quad of four decimal numbers 0-255 without leading zeros (the spec forbids them:
 * some parsers read `010` as octal), as 4 bytes; null for anything else.
 */
export function parseIpv4Text(text: string): Uint8Array | null {
  if (text.length > 15) return null;
  const match = IPV4.exec(text);
  if (match === null) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const value = Number(match[i + 1]);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

/**
 * RFC 4291 text: eight colon-separated groups of 1-4 hex digits, one `::` standing for one
 * or more zero groups, and a dotted quad allowed as the last 32 bits (what inet_ntop writes
 * for IPv4-mapped addresses). No zone (`%eth0`), no brackets, no prefix length. 16 bytes,
 * or null.
 */
export function parseIpv6Text(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > MAX_IPV6_TEXT) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!, halves.length === 1);
  if (head === null) return null;
  let groups: number[];
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    groups = head;
  } else {
    const tail = parseGroups(halves[1]!, true);
    if (tail === null) return null;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = groups[i]! >> 8;
    bytes[2 * i + 1] = groups[i]! & 0xff;
  }
  return bytes;
}

/** Colon-separated groups; a dotted quad may end the text when `last`. */
function parseGroups(text: string, last: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (HEX_GROUP.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else if (last && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4Text(part);
      if (v4 === null) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      return null;
    }
  }
  return groups;
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** True for ::ffff:0:0/96, what a dual-stack socket reports for an IPv4 peer. */
export function isIpv4Mapped(bytes: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) return false;
  return bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
}

/**
 * RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups
 * compressed (the first on a tie); IPv4-mapped addresses as `::ffff:a.b.c.d` (section 5)
 * unless `mixed` is false (the v1 encoder's choice: the spec's v1 grammar has hex groups only).
 */
export function formatIpv6(bytes: Uint8Array, offset = 0, mixed = true): string {
  if (mixed && isIpv4Mapped(bytes, offset)) return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * The form Podgate's identity store keys addresses by: IPv4-mapped IPv6 becomes IPv4, every
 * other address keeps its canonical text.
 */
export function identityAddress(family: 'ipv4' | 'ipv6', bytes: Uint8Array, offset = 0): string {
  if (family === 'ipv4') return formatIpv4(bytes, offset);
  return isIpv4Mapped(bytes, offset) ? formatIpv4(bytes, offset + 12) : formatIpv6(bytes, offset);
}
