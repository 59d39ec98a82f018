// v2 TLVs: type (1 byte), length (2 bytes, big-endian), value. The parser checks the framing
// and the CRC32C TLV; every value is handed back as opaque bytes, the SSL TLV's sub-TLVs
// included, because Podgate reads none of them to decide who the client is.
import { TLV_TYPES } from './constants.js';
import { crc32c } from './crc32c.js';
import { refuse } from './refusal.js';
import type { ParseRefusal, ProxyTlv } from './types.js';

/**
 * The TLVs in `header` from `start` to its end. `header` is the whole v2 header (the CRC32C
 * covers all of it).
 */
export function parseTlvs(header: Uint8Array, start: number): ProxyTlv[] | ParseRefusal {
  const end = header.length;
  const tlvs: ProxyTlv[] = [];
  let crcOffset = -1;
  let offset = start;
  while (offset < end) {
    if (end - offset < 3) {
      return refuse('v2_tlv_overrun', `v2 TLV at byte ${offset} has ${end - offset} bytes; a TLV needs 3`);
    }
    const type = header[offset]!;
    const length = (header[offset + 1]! << 8) | header[offset + 2]!;
    const valueStart = offset + 3;
    if (valueStart + length > end) {
      return refuse(
        'v2_tlv_overrun',
        `v2 TLV type 0x${hex2(type)} at byte ${offset} claims ${length} bytes; ${end - valueStart} remain`,
      );
    }
    if (type === TLV_TYPES.CRC32C) {
      if (crcOffset >= 0) return refuse('v2_crc32c_malformed', 'v2 header has more than one CRC32C TLV');
      if (length !== 4) return refuse('v2_crc32c_malformed', `v2 CRC32C TLV has ${length} bytes, not 4`);
      crcOffset = valueStart;
    }
    tlvs.push({ type, value: Buffer.from(header.subarray(valueStart, valueStart + length)) });
    offset = valueStart + length;
  }
  if (crcOffset >= 0) {
    const sent = readUint32(header, crcOffset);
    const computed = crc32c(header, crcOffset, 4);
    if (sent !== computed) {
      return refuse(
        'v2_crc32c_mismatch',
        `v2 CRC32C TLV is 0x${sent.toString(16).padStart(8, '0')}, the header's is 0x${computed.toString(16).padStart(8, '0')}`,
      );
    }
  }
  return tlvs;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** The wire bytes of `tlvs`, in order. Callers have checked types and lengths. */
export function tlvBytes(tlvs: readonly ProxyTlv[]): number {
  let total = 0;
  for (const tlv of tlvs) total += 3 + tlv.value.length;
  return total;
}

export function writeTlvs(target: Buffer, offset: number, tlvs: readonly ProxyTlv[]): number {
  let at = offset;
  for (const tlv of tlvs) {
    target[at] = tlv.type;
    target.writeUInt16BE(tlv.value.length, at + 1);
    target.set(tlv.value, at + 3);
    at += 3 + tlv.value.length;
  }
  return at;
}
