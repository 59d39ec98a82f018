// Who the client of a forward-auth request is. The TCP peer, unless the peer is a trusted
// proxy: then the rightmost X-Forwarded-For address that is not itself a trusted proxy, else
// X-Real-IP. Never the leftmost entry (the client writes it), never a header from an
// untrusted peer (anyone can send one): both were authentication bypasses elsewhere
// (oauth2-proxy's issues 1778 and 3506).
//
// An entry that is not an address where the walk stops is refused rather than skipped:
// skipping it would hand the decision to the entry on its left, which the client chose.
import { tryNormalizeIp } from '@podgate/identity';

export type ClientSource = 'peer' | 'x-forwarded-for' | 'x-real-ip';

export interface ClientAddress {
  ip: string;
  /** 0 when the header that named the client gave no port. */
  port: number;
  from: ClientSource;
}

export interface ClientIpInput {
  /** The TCP peer, canonical (IPv4-mapped IPv6 already as IPv4). */
  peer: { ip: string; port: number };
  /** The X-Forwarded-For header, several fields joined with `,` (as Fetch's Headers.get does). */
  forwardedFor: string | null;
  realIp: string | null;
  /** Peers (and hops) whose headers are believed; null: none. */
  trusted: { contains(ip: string): boolean } | null;
  /** trusted.contains(peer.ip), when the caller knows it already (a keep-alive peer asks often). */
  peerTrusted?: boolean;
}

export type ClientIpResult = { ok: true; client: ClientAddress } | { ok: false; message: string };

export function resolveClient(input: ClientIpInput): ClientIpResult {
  const { peer, trusted } = input;
  if (trusted === null || !(input.peerTrusted ?? trusted.contains(peer.ip))) {
    return { ok: true, client: { ip: peer.ip, port: peer.port, from: 'peer' } };
  }
  const chain = input.forwardedFor === null ? '' : input.forwardedFor.trim();
  const entries = chain === '' ? [] : chain.split(',');
  /** The hop the trusted peer itself received the request from. */
  let nearest: { ip: string; port: number } | null = null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const text = entries[i]!.trim();
    const hop = parseHop(text);
    if (hop === null) {
      return {
        ok: false,
        message: `X-Forwarded-For entry ${i + 1} of ${entries.length} is not an IP address: ${show(text)}`,
      };
    }
    if (!trusted.contains(hop.ip)) return { ok: true, client: { ...hop, from: 'x-forwarded-for' } };
    nearest ??= hop;
  }
  if (input.realIp !== null) {
    const text = input.realIp.trim();
    const hop = text.includes(',') ? null : parseHop(text);
    if (hop === null) return { ok: false, message: `X-Real-IP is not one IP address: ${show(text)}` };
    return { ok: true, client: { ...hop, from: 'x-real-ip' } };
  }
  // Every hop is trusted: the request started at one of them (a probe, a sidecar), or a client
  // sits inside a trusted range. The hop the peer appended, not the leftmost: inside a trusted
  // range (a pod network listed whole), a client that wrote another pod's address into its own
  // X-Forwarded-For would otherwise be decided as that pod.
  if (nearest !== null) return { ok: true, client: { ...nearest, from: 'x-forwarded-for' } };
  return { ok: true, client: { ip: peer.ip, port: peer.port, from: 'peer' } };
}

/** One hop as proxies write it: `10.1.2.3`, `10.1.2.3:5678`, `2001:db8::1`, `[2001:db8::1]:443`. */
export function parseHop(text: string): { ip: string; port: number } | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const ip = tryNormalizeIp(text.slice(1, close));
    const rest = text.slice(close + 1);
    if (ip === null) return null;
    if (rest === '') return { ip, port: 0 };
    const port = rest.startsWith(':') ? parsePort(rest.slice(1)) : null;
    return port === null ? null : { ip, port };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    // IPv4 with a port; an IPv6 address has at least two colons.
    const [host, portText] = text.split(':') as [string, string];
    const ip = host.includes('.') ? tryNormalizeIp(host) : null;
    const port = parsePort(portText);
    return ip === null || port === null ? null : { ip, port };
  }
  const ip = tryNormalizeIp(text);
  return ip === null ? null : { ip, port: 0 };
}

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

function show(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}...` : text);
}
