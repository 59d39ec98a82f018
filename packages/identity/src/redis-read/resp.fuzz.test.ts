// Regressions found while fuzzing the RESP reader (test/fuzz/targets/resp.ts): every one must
// end in RespProtocolError (the connection drops and reconnects), never another throw.
import { describe, expect, it } from 'vitest';
import { MAX_ARRAY_DEPTH, RespProtocolError, RespReader, type RespValue } from './resp.js';

function feed(wire: string): { replies: RespValue[]; error: unknown } {
  const replies: RespValue[] = [];
  const reader = new RespReader((v) => replies.push(v));
  try {
    reader.feed(Buffer.from(wire, 'latin1'));
    return { replies, error: null };
  } catch (error) {
    return { replies, error };
  }
}

describe('RESP reader on hostile streams', () => {
  it('refuses arrays nested past the bound (was: RangeError, Maximum call stack size exceeded)', () => {
    const { error } = feed(`${'*1\r\n'.repeat(200_000)}:1\r\n`);
    expect(error).toBeInstanceOf(RespProtocolError);
    expect((error as Error).message).toMatch(/nested deeper than 64/);
  });

  it('still reads arrays nested exactly to the bound', () => {
    const { replies, error } = feed(`${'*1\r\n'.repeat(MAX_ARRAY_DEPTH)}:7\r\n+OK\r\n`);
    expect(error).toBeNull();
    let value = replies[0];
    for (let i = 0; i < MAX_ARRAY_DEPTH; i++) value = (value as RespValue[])[0];
    expect(value).toBe(7);
    expect(replies[1]).toBe('OK');
  });

  it('a deep array split across chunks is refused once the bound is passed, and the reader recovers after reset', () => {
    const replies: RespValue[] = [];
    const reader = new RespReader((v) => replies.push(v));
    reader.feed(Buffer.from('*1\r\n'.repeat(MAX_ARRAY_DEPTH)));
    expect(() => reader.feed(Buffer.from('*1\r\n*1\r\n'))).toThrow(RespProtocolError);
    expect(reader.buffered).toBe(0);
    reader.feed(Buffer.from('+OK\r\n'));
    expect(replies).toEqual(['OK']);
  });

  it('refuses a length that can no longer be valid before its CRLF arrives', () => {
    expect(feed('*N').error).toBeInstanceOf(RespProtocolError);
    expect(feed('$12345678901234567').error).toBeInstanceOf(RespProtocolError);
  });
});
