// IP addresses and CIDR ranges, IPv4 and IPv6 in one representation: four 32-bit words of
// IPv6 space, IPv4 as IPv4-mapped (::ffff:a.b.c.d). So `::ffff:10.1.2.3` and `10.1.2.3` are
// one address, and an IPv4 range matches both spellings.
import { isIPv6 } from 'node:net';

export type Words = readonly [number, number, number, number];

export interface Cidr {
  words: Words;
  /** Prefix length in IPv6 space (an IPv4 /n is 96 + n). */
  bits: number;
}

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;

function parseIpv4Word(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let word = 0;
  for (const part of parts) {
    // Leading zeros are refused: some resolvers read them as octal.
    if (!DEC_OCTET.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    word = word * 256 + n;
  }
  return word >>> 0;
}

/** The address as four words, or undefined when `s` is not an IP literal (zones refused). */
export function parseIp(s: string): Words | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  if (!s.includes(':')) {
    const v4 = parseIpv4Word(s);
    return v4 === undefined ? undefined : [0, 0, 0xffff, v4];
  }
  if (s.includes('%') || !isIPv6(s)) return undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    // Trailing dotted quad: rewrite it as the two hex groups it stands for.
    const v4 = parseIpv4Word(maybeV4);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const headNums = head.map((g) => Number.parseInt(g, 16));
  const restNums = rest.map((g) => Number.parseInt(g, 16));
  const missing = 8 - headNums.length - restNums.length;
  if (halves.length === 1 && missing !== 0) return undefined;
  const groups = [...headNums, ...new Array<number>(Math.max(0, missing)).fill(0), ...restNums];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff))
    return undefined;
  return [
    ((groups[0]! << 16) | groups[1]!) >>> 0,
    ((groups[2]! << 16) | groups[3]!) >>> 0,
    ((groups[4]! << 16) | groups[5]!) >>> 0,
    ((groups[6]! << 16) | groups[7]!) >>> 0,
  ];
}

/** `a.b.c.d/n` or `v6/n`; host bits are masked off. Undefined when malformed. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash <= 0) return undefined;
  const addrText = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const words = parseIp(addrText);
  if (!words) return undefined;
  const isV4 = !addrText.includes(':');
  const len = Number(lenText);
  if (len > (isV4 ? 32 : 128)) return undefined;
  const bits = isV4 ? 96 + len : len;
  return { words: mask(words, bits), bits };
}

function mask(words: Words, bits: number): Words {
  const out = [0, 0, 0, 0] as [number, number, number, number];
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(32, bits - i * 32));
    out[i] = keep === 0 ? 0 : keep === 32 ? words[i]! : (words[i]! & (~0 << (32 - keep))) >>> 0;
  }
  return out;
}

export function cidrContains(cidr: Cidr, ip: Words): boolean {
  const { words, bits } = cidr;
  for (let i = 0; i < 4; i++) {
    const keep = bits - i * 32;
    if (keep <= 0) return true;
    if (keep >= 32) {
      if (ip[i] !== words[i]) return false;
    } else if ((ip[i]! & (~0 << (32 - keep))) >>> 0 !== words[i]) {
      return false;
    }
  }
  return true;
}

/** Go's net.IP.IsPrivate: RFC 1918 and RFC 4193 (fc00::/7). */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'].map((c) => parseCidr(c)!);

export function isPrivateIp(ip: Words): boolean {
  return PRIVATE.some((c) => cidrContains(c, ip));
}
