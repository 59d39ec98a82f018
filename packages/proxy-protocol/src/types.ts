// What a parsed PROXY header says, in the shape the proxy needs to decide who the client is.
import type { ParseRefusalCode } from './errors.js';

export type ProxyVersion = 1 | 2;

/** v2 PROXY or v1 TCP4/TCP6: addresses given; v2 LOCAL and v1 UNKNOWN: none. */
export type ProxyCommand = 'proxy' | 'local' | 'unknown';

export type ProxyTransport = 'stream' | 'dgram';

export interface InetEndpoint {
  /**
   * Canonical text for the header's family: IPv4 as a dotted quad without leading zeros;
   * IPv6 per RFC 5952 (lower case, longest zero run compressed), with IPv4-mapped
   * addresses in the mixed form `::ffff:a.b.c.d` that RFC 5952 section 5 recommends.
   */
  readonly address: string;
  readonly port: number;
}

/** The addresses a PROXY command carried; null for LOCAL, UNKNOWN and AF_UNSPEC. */
export type ProxyAddresses =
  | {
      readonly family: 'ipv4' | 'ipv6';
      readonly transport: ProxyTransport;
      readonly source: InetEndpoint;
      readonly destination: InetEndpoint;
    }
  | {
      readonly family: 'unix';
      readonly transport: ProxyTransport;
      /** The path up to its first NUL; an abstract socket name is shown with a leading `@`. */
      readonly source: string;
      readonly destination: string;
    };

/**
 * Who the client is, as the header says it. The parser decides nothing about trust: the
 * caller asks for a header only from peers it trusts, and then uses this.
 * - `header`: the header's source. `address` is in Podgate's identity form, where an
 *   IPv4-mapped IPv6 address is its IPv4 address (so it matches the identity store's keys).
 * - `socket`: the header says to use the connection's own peer address (v1 UNKNOWN, v2 LOCAL,
 *   v2 PROXY with AF_UNSPEC).
 * - `none`: the client is an AF_UNIX socket; there is no IP address to identify it by.
 */
export type ProxyClient =
  | { readonly use: 'header'; readonly address: string; readonly port: number }
  | { readonly use: 'socket'; readonly reason: 'v1-unknown' | 'v2-local' | 'v2-unspec' }
  | { readonly use: 'none'; readonly reason: 'unix' };

export interface ProxyTlv {
  /** 0-255; see `TLV_TYPES` for the registered ones. */
  readonly type: number;
  readonly value: Buffer;
}

export interface ProxyHeader {
  readonly version: ProxyVersion;
  readonly command: ProxyCommand;
  readonly addresses: ProxyAddresses | null;
  /** v2 only, in wire order, CRC32C and NOOP included; always empty for v1. */
  readonly tlvs: readonly ProxyTlv[];
  readonly client: ProxyClient;
  /** Header bytes on the wire, CRLF or TLVs included. */
  readonly length: number;
}

export interface ParseRefusal {
  readonly status: 'refused';
  readonly code: ParseRefusalCode;
  readonly message: string;
}

/** The answer of the pure `parseProxyHeader` for the bytes received so far. */
export type PrefixParseResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'complete'; readonly header: ProxyHeader; readonly consumed: number }
  | ParseRefusal;

/** The answer of the incremental `ProxyHeaderParser.push`. */
export type ParseResult =
  | { readonly status: 'incomplete'; readonly buffered: number }
  | {
      readonly status: 'complete';
      readonly header: ProxyHeader;
      /** Bytes after the header among all pushed so far: forward them first, untouched. */
      readonly payload: Buffer;
    }
  | ParseRefusal;

export interface ParserOptions {
  /**
   * The most bytes a v2 header may have in total (16-byte fixed part included); a header
   * announcing more is refused as soon as its length field arrives. Default 4112 (16 + 4096),
   * range 52 (TCP over IPv6 without TLVs) to 65551 (the spec's own limit). v1 lines are
   * bounded at 107 bytes by the spec, whatever this says.
   */
  readonly maxBytes?: number;
  /** The versions the caller accepts; default both. */
  readonly versions?: readonly ProxyVersion[];
}
