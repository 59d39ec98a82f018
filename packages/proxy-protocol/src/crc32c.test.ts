import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';

describe('crc32c', () => {
  // RFC 3720 appendix B.4 (the iSCSI vectors) and the common check value.
  it.each([
    ['"123456789"', Buffer.from('123456789'), 0xe3069283],
    ['32 zero bytes', Buffer.alloc(32), 0x8a9136aa],
    ['32 0xff bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['0..31', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
    ['31..0', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
    ['no bytes', Buffer.alloc(0), 0],
  ])('%s', (_, bytes, want) => expect(crc32c(bytes)).toBe(want));

  it('counts a zeroed range as zeros without changing the input', () => {
    const bytes = Buffer.from('1234\xde\xad\xbe\xef56789', 'latin1');
    const copy = Buffer.from(bytes);
    const zeroed = Buffer.from(bytes);
    zeroed.fill(0, 4, 8);
    expect(crc32c(bytes, 4, 4)).toBe(crc32c(zeroed));
    expect(crc32c(bytes, 4, 4)).not.toBe(crc32c(bytes));
    expect(bytes).toEqual(copy);
  });
});
