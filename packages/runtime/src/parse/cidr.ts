// CIDR lists as flags take them (trusted proxies, allowed senders): `10.0.0.0/8,fd00::/8`,
// IPv4 and IPv6, a bare address meaning that one address. Parsing and matching are the
// policy engine's (one implementation: `::ffff:10.1.2.3` and `10.1.2.3` are one address,
// and an IPv4 range matches both spellings); this adds canonical text and lists.
import { type Cidr, cidrContains, parseCidr, parseIp } from '@podgate/policy';
import { z } from 'zod';

export interface CidrList {
  /** Canonical forms, in input order, without duplicates: `10.0.0.0/8`, `2001:db8::/32`. */
  readonly cidrs: readonly string[];
  /** The address (any spelling) is in one of the ranges; false for anything not an address. */
  contains(ip: string): boolean;
}

/** The canonical form of one CIDR or bare address (host bits cleared), or null. */
export function canonicalCidr(text: string): string | null {
  const parsed = parseEntry(text);
  return parsed === null ? null : formatCidr(parsed);
}

function parseEntry(text: string): Cidr | null {
  const trimmed = text.trim();
  if (trimmed.includes('/')) return parseCidr(trimmed) ?? null;
  const words = parseIp(trimmed);
  return words === undefined ? null : { words, bits: 128 };
}

function formatCidr({ words, bits }: Cidr): string {
  if (bits >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    const v4 = words[3];
    return `${v4 >>> 24}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}/${bits - 96}`;
  }
  const groups = words.flatMap((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)]);
  // The WHATWG URL serializer writes IPv6 the RFC 5952 way (lower case, longest zero run as ::).
  const host = new URL(`http://[${groups.join(':')}]/`).hostname;
  return `${host.slice(1, -1)}/${bits}`;
}

export type ParsedCidrList = { ok: true; list: CidrList } | { ok: false; invalid: string[] };

/**
 * Why an entry that parses is still refused, or null. `::ffff:10.0.0.0/8` reads as 10/8 and is
 * ::/8, which holds every IPv4 address (their IPv4-mapped spellings); as a trusted range it
 * would trust every IPv4 peer. Go's parser gives it the same meaning, so the policy engine keeps
 * it (ngrok compatibility); an operator's flag refuses it.
 */
function mappedPrefixTooShort(text: string, parsed: Cidr): string | null {
  const address = text.slice(0, text.indexOf('/'));
  const words = parseIp(address);
  const mapped = address.includes(':') && words?.[0] === 0 && words[1] === 0 && words[2] === 0xffff;
  if (!mapped || parsed.bits >= 96) return null;
  const v4 = `${address.slice(address.lastIndexOf(':') + 1)}/${parsed.bits}`;
  return `an IPv4-mapped address with a prefix under 96 is an IPv6 range holding every IPv4 address; write ${v4} (or ${address}/${parsed.bits + 96})`;
}

/** A comma-separated string or a list of entries; every bad entry is reported. */
export function parseCidrList(input: string | readonly string[]): ParsedCidrList {
  const entries = (typeof input === 'string' ? input.split(',') : input)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const ranges: Cidr[] = [];
  const cidrs: string[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    const refused = parsed === null ? null : mappedPrefixTooShort(entry, parsed);
    if (parsed === null || refused !== null) {
      invalid.push(refused === null ? entry : `${entry} (${refused})`);
      continue;
    }
    const canonical = formatCidr(parsed);
    if (cidrs.includes(canonical)) continue;
    cidrs.push(canonical);
    ranges.push(parsed);
  }
  if (invalid.length > 0) return { ok: false, invalid };
  return {
    ok: true,
    list: {
      cidrs,
      contains(ip: string) {
        const words = parseIp(ip);
        return words !== undefined && ranges.some((range) => cidrContains(range, words));
      },
    },
  };
}

/** A zod field: the CIDR list of `flag` (text or repeated values). */
export function cidrListSchema(flag: string) {
  return z.union([z.string(), z.array(z.string())]).transform((input, ctx) => {
    const parsed = parseCidrList(input);
    if (!parsed.ok) {
      const shown = parsed.invalid
        .map((entry) => (entry.includes(' (') ? entry : JSON.stringify(entry.slice(0, 64))))
        .join(', ');
      ctx.addIssue({ code: 'custom', message: `${flag}: not a CIDR range or address: ${shown}` });
      return z.NEVER;
    }
    return parsed.list;
  });
}
