// The closed set of reasons a PROXY header is refused, and the one error type thrown for
// programming mistakes (bad options, an address the encoder cannot send). Header bytes come
// from the network, so the parser never throws on them: it answers with a refusal instead.

/** Why the parser refused the bytes it was given. */
export type ParseRefusalCode =
  | 'not_proxy_protocol' // the first bytes match neither the v1 nor the v2 signature
  | 'version_not_allowed' // a valid signature of a version the caller did not accept
  | 'v1_line_too_long' // no CRLF within the first 107 bytes
  | 'v1_bad_line_ending' // a CR not followed by LF, or an LF without a CR before it
  | 'v1_bad_character' // a byte outside printable US-ASCII in the line
  | 'v1_bad_syntax' // wrong number of fields, or not exactly one space between them
  | 'v1_bad_protocol' // the protocol field is not TCP4, TCP6 or UNKNOWN
  | 'v1_bad_address' // an address that is not in the canonical form the spec requires
  | 'v1_family_mismatch' // an IPv6 address in a TCP4 line, or IPv4 in a TCP6 line
  | 'v1_bad_port' // not a decimal 0-65535 without leading zeros
  | 'v2_bad_version' // the version nibble is not 2
  | 'v2_bad_command' // the command nibble is neither LOCAL (0) nor PROXY (1)
  | 'v2_bad_family' // an address family the spec does not define, or UNSPEC with a transport
  | 'v2_bad_transport' // a transport the spec does not define, or a family without a transport
  | 'v2_header_too_long' // the announced length is over the configured maximum
  | 'v2_address_too_short' // the length is shorter than the family's address block
  | 'v2_tlv_overrun' // a TLV whose header or value runs past the end of the header
  | 'v2_crc32c_malformed' // a CRC32C TLV that is not 4 bytes, or more than one of them
  | 'v2_crc32c_mismatch'; // the CRC32C TLV does not match the header

/** Why `readProxyHeader` gave up on a socket: a parser refusal, or what the socket did. */
export type ReadRefusalCode =
  | ParseRefusalCode
  | 'timeout' // no complete header before the deadline (a slow or silent sender)
  | 'closed' // the peer ended or the socket closed before the header was complete
  | 'socket_error' // the socket emitted an error
  | 'aborted'; // the caller's AbortSignal fired

/** Misuse by the calling code, never by the bytes on the wire. */
export type ProxyProtocolErrorCode =
  | 'invalid_options' // a parser or reader option out of range
  | 'invalid_address' // an address or port the encoder cannot put in a header
  | 'invalid_tlv' // a TLV the encoder cannot put in a header
  | 'header_too_long' // an encoded v2 header over the 65535-byte length field
  | 'parser_finished'; // push() after the parser answered complete or refused

export class ProxyProtocolError extends Error {
  readonly code: ProxyProtocolErrorCode;

  constructor(code: ProxyProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyProtocolError';
    this.code = code;
  }
}
