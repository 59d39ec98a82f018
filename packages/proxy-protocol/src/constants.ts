// Wire constants of the PROXY protocol (HAProxy's specification, versions 1 and 2).

/** "PROXY " : the v1 line starts with the word and exactly one space. */
export const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/** The longest v1 line the spec allows, CRLF included ("PROXY UNKNOWN" with two IPv6). */
export const V1_MAX_LENGTH = 107;

/** The 12-byte v2 signature; it holds a NUL, so it is never handled as a C string. */
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** Signature, version/command, family/transport, 16-bit length. */
export const V2_FIXED_LENGTH = 16;

/** The v2 length field is 16 bits. */
export const V2_MAX_BODY_LENGTH = 0xffff;

export const DEFAULT_MAX_BYTES = V2_FIXED_LENGTH + 4096;

/** Enough for TCP over IPv6 without TLVs: a smaller limit could refuse valid senders. */
export const MIN_MAX_BYTES = V2_FIXED_LENGTH + 36;

export const MAX_MAX_BYTES = V2_FIXED_LENGTH + V2_MAX_BODY_LENGTH;

/** Address block sizes by v2 family: two addresses, then two 16-bit ports for IP. */
export const V2_ADDRESS_LENGTH = { ipv4: 12, ipv6: 36, unix: 216 } as const;

/** The length of one AF_UNIX address (sun_path) in a v2 header. */
export const V2_UNIX_PATH_LENGTH = 108;

/** The registered v2 TLV types; values are opaque bytes to this package. */
export const TLV_TYPES = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
} as const;
