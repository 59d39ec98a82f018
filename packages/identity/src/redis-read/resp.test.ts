import { describe, expect, it } from 'vitest';
import {
  encodeBulk,
  encodeCommand,
  encodeCommandStart,
  RespErrorReply,
  RespProtocolError,
  RespReader,
  type RespValue,
} from './resp.js';

function readAll(chunks: readonly Buffer[], maxReplyBytes?: number): RespValue[] {
  const replies: RespValue[] = [];
  const reader = new RespReader((v) => replies.push(v), maxReplyBytes);
  for (const chunk of chunks) reader.feed(chunk);
  expect(reader.buffered).toBe(0);
  return replies;
}

const CASES: Array<{ name: string; wire: string; replies: RespValue[] }> = [
  { name: 'simple string', wire: '+OK\r\n', replies: ['OK'] },
  { name: 'empty simple string', wire: '+\r\n', replies: [''] },
  {
    name: 'error',
    wire: '-WRONGPASS invalid username-password pair\r\n',
    replies: [new RespErrorReply('WRONGPASS invalid username-password pair')],
  },
  { name: 'integer', wire: ':42\r\n', replies: [42] },
  { name: 'negative integer', wire: ':-2\r\n', replies: [-2] },
  { name: 'bulk string', wire: '$5\r\nhello\r\n', replies: ['hello'] },
  { name: 'empty bulk string', wire: '$0\r\n\r\n', replies: [''] },
  { name: 'bulk with CRLF inside', wire: '$4\r\na\r\nb\r\n', replies: ['a\r\nb'] },
  { name: 'UTF-8 bulk (byte length)', wire: '$7\r\nzürich\r\n', replies: ['zürich'] },
  { name: 'nil bulk', wire: '$-1\r\n', replies: [null] },
  { name: 'nil array', wire: '*-1\r\n', replies: [null] },
  { name: 'empty array (HGETALL of a missing key)', wire: '*0\r\n', replies: [[]] },
  {
    name: 'HGETALL reply',
    wire: '*4\r\n$6\r\na/uid1\r\n$9\r\n{"v":"1"}\r\n$6\r\nb/uid2\r\n$2\r\n{}\r\n',
    replies: [['a/uid1', '{"v":"1"}', 'b/uid2', '{}']],
  },
  {
    name: 'nested arrays with every type',
    wire: '*3\r\n*2\r\n:1\r\n$-1\r\n*0\r\n*2\r\n-ERR x\r\n+y\r\n',
    replies: [[[1, null], [], [new RespErrorReply('ERR x'), 'y']]],
  },
  {
    name: 'many replies in one chunk',
    wire: '+OK\r\n+PONG\r\n*0\r\n$1\r\nx\r\n-ERR no\r\n',
    replies: ['OK', 'PONG', [], 'x', new RespErrorReply('ERR no')],
  },
];

describe('RespReader', () => {
  it.each(CASES)('$name: whole', ({ wire, replies }) => {
    expect(readAll([Buffer.from(wire)])).toEqual(replies);
  });

  it.each(CASES)('$name: split at every byte offset', ({ wire, replies }) => {
    const bytes = Buffer.from(wire);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(readAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(replies);
    }
  });

  it.each(CASES)('$name: one byte at a time', ({ wire, replies }) => {
    const bytes = Buffer.from(wire);
    expect(readAll([...bytes].map((b) => Buffer.from([b])))).toEqual(replies);
  });

  it('delivers replies in order across chunks, holding back only the incomplete tail', () => {
    const replies: RespValue[] = [];
    const reader = new RespReader((v) => replies.push(v));
    reader.feed(Buffer.from('+A\r\n$3\r\nbc'));
    expect(replies).toEqual(['A']);
    expect(reader.buffered).toBe(6);
    reader.feed(Buffer.from('d\r\n:7\r'));
    expect(replies).toEqual(['A', 'bcd']);
    reader.feed(Buffer.from('\n'));
    expect(replies).toEqual(['A', 'bcd', 7]);
  });

  it.each([
    { name: 'unknown type byte', wire: '!oops\r\n' },
    { name: 'RESP3 map', wire: '%1\r\n+a\r\n+b\r\n' },
    { name: 'bad bulk length', wire: '$x\r\n' },
    { name: 'negative bulk length', wire: '$-5\r\n' },
    { name: 'bulk without CRLF', wire: '$2\r\nabXY' },
    { name: 'line without LF', wire: '+OK\rX' },
    { name: 'bad integer', wire: ':12a\r\n' },
    { name: 'empty length', wire: '*\r\n' },
  ])('refuses $name', ({ wire }) => {
    const reader = new RespReader(() => {});
    expect(() => reader.feed(Buffer.from(wire))).toThrow(RespProtocolError);
    expect(reader.buffered).toBe(0);
  });

  // Split, the refusal comes from the scan of the held-back tail or from the parse after it.
  it.each([
    { name: 'unknown type byte inside an array', wire: '*2\r\n!oops\r\n' },
    { name: 'bad bulk length inside an array', wire: '*2\r\n$x\r\n' },
    { name: 'bulk without CRLF', wire: '$2\r\nabXY' },
    { name: 'line without LF', wire: '*1\r\n+OK\rX' },
    { name: 'bad integer', wire: '*1\r\n:12a\r\n' },
    { name: 'arrays nested too deep', wire: '*1\r\n'.repeat(70) },
  ])('refuses $name, one byte at a time', ({ wire }) => {
    const reader = new RespReader(() => {});
    const feedAll = () => {
      for (const b of Buffer.from(wire)) reader.feed(Buffer.from([b]));
    };
    expect(feedAll).toThrow(RespProtocolError);
    expect(reader.buffered).toBe(0);
  });

  // As the whole-chunk parse does: not once the array is complete, which may be never.
  it.each([
    { name: 'a line without LF', element: '+OK\rX' },
    { name: 'a bad integer', element: ':12a\r\n' },
    { name: 'a bulk string without CRLF', element: '$2\r\nabXY' },
  ])('refuses $name in an array still incomplete, as soon as it arrives after a split', ({ element }) => {
    const reader = new RespReader(() => {});
    reader.feed(Buffer.from('*3\r\n'));
    expect(() => reader.feed(Buffer.from(element))).toThrow(RespProtocolError);
  });

  it('refuses a reply past its limit that accumulates one byte at a time', () => {
    const reader = new RespReader(() => {}, 64);
    const wire = Buffer.from(`*100\r\n${'$1\r\nx\r\n'.repeat(20)}`);
    expect(() => {
      for (const b of wire) reader.feed(Buffer.from([b]));
    }).toThrow(/exceeds 64 bytes/);
    expect(reader.buffered).toBe(0);
  });

  it('refuses a reply larger than its limit, announced or accumulating', () => {
    expect(() => readAll([Buffer.from('$100\r\n')], 64)).toThrow(/bad bulk string length/);
    const reader = new RespReader(() => {}, 64);
    expect(() => reader.feed(Buffer.from(`*100\r\n${'$1\r\nx\r\n'.repeat(20)}`))).toThrow(/exceeds 64 bytes/);
  });

  it('stops delivering from a chunk once reset by its callback (the stream was dropped)', () => {
    const replies: RespValue[] = [];
    const reader: RespReader = new RespReader((v) => {
      replies.push(v);
      if (v === 'stop') reader.reset();
    });
    reader.feed(Buffer.from('+a\r\n+stop\r\n+b\r\n$3\r\nxy'));
    expect(replies).toEqual(['a', 'stop']);
    expect(reader.buffered).toBe(0);
    reader.feed(Buffer.from('+fresh\r\n'));
    expect(replies).toEqual(['a', 'stop', 'fresh']);
  });
});

describe('encodeCommand', () => {
  it('writes an array of bulk strings with byte lengths', () => {
    expect(encodeCommand(['HGETALL', 'p:ip:{10.0.0.1}'])).toBe(
      '*2\r\n$7\r\nHGETALL\r\n$15\r\np:ip:{10.0.0.1}\r\n',
    );
    expect(encodeCommand(['AUTH', 'pässword'])).toBe('*2\r\n$4\r\nAUTH\r\n$9\r\npässword\r\n');
  });

  it('round-trips through the reader as a request would (arrays of bulk strings)', () => {
    const args = ['SET', 'k', 'a\r\nb', ''];
    expect(readAll([Buffer.from(encodeCommand(args))])).toEqual([args]);
  });

  it('is the same command when its start is encoded once and the rest appended', () => {
    const start = encodeCommandStart(4, ['EVALSHA', 'ab', '2']);
    expect(start + encodeBulk('ünï')).toBe(encodeCommand(['EVALSHA', 'ab', '2', 'ünï']));
    expect(readAll([Buffer.from(start + encodeBulk('10.0.0.1'))])).toEqual([
      ['EVALSHA', 'ab', '2', '10.0.0.1'],
    ]);
  });
});
