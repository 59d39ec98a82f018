// The RESP2 reader of the lookup connection (bytes from the Redis server, or from whatever
// answers on its address). Invariants: the only throw is RespProtocolError; fed in two pieces
// it yields exactly what a plain reference decoder (below, written from the RESP2 spec with
// the reader's documented limits) yields for the whole, and keeps the same unparsed tail;
// the reference refuses the stream whenever the reader does.
import {
  RespErrorReply,
  RespProtocolError,
  RespReader,
  type RespValue,
} from '../../../packages/identity/src/redis-read/resp.js';
import { FuzzFinding, type FuzzTarget } from '../harness.js';

const MAX_REPLY = 4096;
const MAX_ARRAY = 1 << 20;
const MAX_DEPTH = 64;

type Ref = { values: RespValue[]; tail: number; error: boolean };

class Incomplete {}

/** The reference: complete values in order, the length of the unfinished tail, or error. */
function reference(bytes: Buffer): Ref {
  const values: RespValue[] = [];
  let start = 0;
  while (start < bytes.length) {
    let pos = start;
    const lineEnd = (): number => {
      const cr = bytes.indexOf(13, pos);
      if (cr < 0 || cr + 1 >= bytes.length) throw new Incomplete();
      if (bytes[cr + 1] !== 10) throw new Error('line not ended by CRLF');
      return cr;
    };
    const length = (): number => {
      // A length that can no longer become valid is refused before its CRLF arrives.
      const end = bytes.indexOf(13, pos);
      const prefix = bytes.toString('latin1', pos, end < 0 ? bytes.length : end);
      if (!/^-?\d{0,16}$/.test(prefix)) throw new Error('bad length');
      const cr = lineEnd();
      const text = bytes.toString('latin1', pos, cr);
      if (!/^-?\d{1,16}$/.test(text)) throw new Error('bad length');
      pos = cr + 2;
      return Number(text);
    };
    const value = (depth: number): RespValue => {
      if (pos >= bytes.length) throw new Incomplete();
      const type = bytes[pos++];
      if (type === 0x2b || type === 0x2d || type === 0x3a) {
        const cr = lineEnd();
        const text = bytes.toString('utf8', pos, cr);
        pos = cr + 2;
        if (type === 0x2b) return text;
        if (type === 0x2d) return new RespErrorReply(text);
        if (!/^-?\d+$/.test(text) || !Number.isFinite(Number(text))) throw new Error('bad integer');
        return Number(text);
      }
      if (type === 0x24) {
        const n = length();
        if (n === -1) return null;
        if (n < 0 || n > MAX_REPLY) throw new Error('bad bulk length');
        if (pos + n + 2 > bytes.length) throw new Incomplete();
        if (bytes[pos + n] !== 13 || bytes[pos + n + 1] !== 10) throw new Error('bulk not ended by CRLF');
        const text = bytes.toString('utf8', pos, pos + n);
        pos += n + 2;
        return text;
      }
      if (type === 0x2a) {
        const n = length();
        if (n === -1) return null;
        if (n < 0 || n > MAX_ARRAY || depth >= MAX_DEPTH) throw new Error('bad array');
        const items: RespValue[] = [];
        for (let i = 0; i < n; i++) items.push(value(depth + 1));
        return items;
      }
      throw new Error('bad type byte');
    };
    try {
      values.push(value(0));
    } catch (e) {
      if (e instanceof Incomplete)
        return { values, tail: bytes.length - start, error: bytes.length - start > MAX_REPLY };
      return { values, tail: 0, error: true };
    }
    start = pos;
  }
  return { values, tail: 0, error: false };
}

export const respTarget: FuzzTarget = {
  name: 'resp',
  coverPaths: ['/packages/identity/src/redis-read/resp.ts'],
  maxLength: 1024,
  dictionary: [
    '\r\n',
    '*',
    '$',
    '+',
    '-',
    ':',
    '$-1\r\n',
    '*-1\r\n',
    '*0\r\n',
    '$0\r\n\r\n',
    ':-',
    '*2\r\n',
    '$3\r\nabc\r\n',
    '-ERR x\r\n',
    '\u00fc',
  ],
  seeds: () =>
    [
      '+OK\r\n',
      '-WRONGPASS invalid\r\n:42\r\n',
      '*4\r\n$6\r\na/uid1\r\n$9\r\n{"v":"1"}\r\n$6\r\nb/uid2\r\n$2\r\n{}\r\n',
      '*3\r\n*2\r\n:1\r\n$-1\r\n*0\r\n*2\r\n-ERR x\r\n+y\r\n',
      '$7\r\nz\u00fcrich\r\n*-1\r\n',
    ].map((s) => Buffer.from(s, 'utf8')),
  run(input) {
    const bytes = Buffer.from(input);
    const got: RespValue[] = [];
    const reader = new RespReader((v) => got.push(v), MAX_REPLY);
    const cut = bytes.length === 0 ? 0 : bytes[0]! % bytes.length;
    let refused = false;
    try {
      reader.feed(bytes.subarray(0, cut));
      reader.feed(bytes.subarray(cut));
    } catch (error) {
      if (!(error instanceof RespProtocolError)) throw error;
      refused = true;
    }
    const want = reference(bytes);
    if (refused !== want.error) {
      throw new FuzzFinding(
        `reader ${refused ? 'refused' : 'accepted'} a stream the reference ${want.error ? 'refuses' : 'accepts'}`,
      );
    }
    const n = Math.min(got.length, want.values.length);
    if (JSON.stringify(got.slice(0, n)) !== JSON.stringify(want.values.slice(0, n))) {
      throw new FuzzFinding(
        `reader and reference disagree: ${JSON.stringify(got).slice(0, 120)} vs ${JSON.stringify(want.values).slice(0, 120)}`,
      );
    }
    if (refused) return;
    if (got.length !== want.values.length)
      throw new FuzzFinding(`reader gave ${got.length} replies, reference ${want.values.length}`);
    if (reader.buffered !== want.tail)
      throw new FuzzFinding(`reader holds ${reader.buffered} bytes, reference ${want.tail}`);
  },
};
