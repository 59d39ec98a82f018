export {
  formatIpv4,
  formatIpv6,
  identityAddress,
  isIpv4Mapped,
  parseIpv4Text,
  parseIpv6Text,
} from './address.js';
export {
  DEFAULT_MAX_BYTES,
  MAX_MAX_BYTES,
  MIN_MAX_BYTES,
  TLV_TYPES,
  V1_MAX_LENGTH,
  V2_SIGNATURE,
} from './constants.js';
export { crc32c } from './crc32c.js';
export {
  type EncodeEndpoint,
  type EncodeInput,
  type EncodeV2Options,
  encodeProxyHeader,
  encodeProxyHeaderV1,
  encodeProxyHeaderV1Unknown,
  encodeProxyHeaderV2,
  encodeProxyHeaderV2Local,
} from './encode.js';
export {
  type ParseRefusalCode,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
  type ReadRefusalCode,
} from './errors.js';
export { ProxyHeaderParser, parseProxyHeader } from './parser.js';
export {
  type DeadlineTimers,
  type ReadProxyHeaderOptions,
  type ReadProxyHeaderResult,
  readProxyHeader,
} from './read.js';
export type * from './types.js';
