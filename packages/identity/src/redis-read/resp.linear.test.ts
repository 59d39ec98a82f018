// A large reply arriving in many small chunks is read in linear time: every byte received is
// copied a bounded number of times however the reply is split (once into the reader's buffer,
// plus the buffer's doublings: under three times in all), where re-concatenating what was
// buffered with each chunk copied a 2 MiB reply in 16-byte chunks 128 GiB over. Counted in
// bytes copied, not timed, so that a loaded machine cannot make it flaky.
import { describe, expect, it } from 'vitest';
import { RespReader, type RespValue } from './resp.js';

const MiB = 1024 * 1024;

function feedInChunks(wire: Buffer, chunkBytes: number): { replies: RespValue[]; reader: RespReader } {
  const replies: RespValue[] = [];
  const reader = new RespReader((v) => replies.push(v));
  for (let i = 0; i < wire.length; i += chunkBytes) reader.feed(wire.subarray(i, i + chunkBytes));
  return { replies, reader };
}

describe('RespReader: a large reply in small chunks', () => {
  it('a 2 MiB bulk string in 16-byte chunks: read whole, under three copies a byte', () => {
    const body = Buffer.alloc(2 * MiB);
    for (let i = 0; i < body.length; i++) body[i] = 0x61 + (i % 26);
    const wire = Buffer.concat([Buffer.from(`$${body.length}\r\n`), body, Buffer.from('\r\n+OK\r\n')]);
    const { replies, reader } = feedInChunks(wire, 16);
    expect(replies).toHaveLength(2);
    expect(replies[0] === body.toString('latin1')).toBe(true);
    expect(replies[1]).toBe('OK');
    expect(reader.buffered).toBe(0);
    expect(reader.bytesCopied).toBeLessThan(3 * wire.length);
  });

  it('an HGETALL-like array of 1 KiB bulk strings in 7-byte chunks, pipelined with more: the same bound', () => {
    const items = Array.from({ length: 1024 }, (_, i) => String(i % 10).repeat(1024));
    const array = `*${items.length}\r\n${items.map((s) => `$${s.length}\r\n${s}\r\n`).join('')}`;
    const wire = Buffer.from(`${array}:1\r\n${array}`);
    const { replies, reader } = feedInChunks(wire, 7);
    expect(replies).toEqual([items, 1, items]);
    expect(reader.bytesCopied).toBeLessThan(3 * wire.length);
  });

  it('small replies that arrive whole are read from the chunk itself: nothing copied', () => {
    const replies: RespValue[] = [];
    const reader = new RespReader((v) => replies.push(v));
    for (let i = 0; i < 1000; i++) reader.feed(Buffer.from('*2\r\n$3\r\nuid\r\n$2\r\n{}\r\n'));
    expect(replies).toHaveLength(1000);
    expect(reader.bytesCopied).toBe(0);
  });
});
