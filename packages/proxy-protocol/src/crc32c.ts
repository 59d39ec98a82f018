// CRC-32C (Castagnoli), the checksum of the v2 PP2_TYPE_CRC32C TLV (RFC 4960 appendix B:
// reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF). Node 20 has no
// built-in CRC-32C (zlib's crc32 is the IEEE polynomial), and headers are at most a few KB,
// so one table lookup a byte is enough.

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * The CRC-32C of `bytes`, where the `zeroLength` bytes from `zeroFrom` count as zeros (the
 * receiver's rule: the checksum field is zeroed before the header is checksummed).
 */
export function crc32c(bytes: Uint8Array, zeroFrom = -1, zeroLength = 0): number {
  let crc = 0xffffffff;
  const zeroTo = zeroFrom + zeroLength;
  for (let i = 0; i < bytes.length; i++) {
    const byte = i >= zeroFrom && i < zeroTo ? 0 : bytes[i]!;
    crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
