// A minimal RESP2 reader and command encoder: only what the lookup connection needs
// (HGETALL, AUTH, SELECT, PING). Replies may arrive split at any byte or many per chunk;
// the reader keeps the unparsed tail and resumes when more bytes arrive.

/** An error reply (`-ERR ...`): a value, since one failed command must not stop the stream. */
export class RespErrorReply {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | null | RespErrorReply | RespValue[];

/** The stream is not RESP2 (or exceeds a limit): the connection cannot be trusted any more. */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

const CR = 13;
const EMPTY = Buffer.alloc(0);
/** Redis's own default proto-max-bulk-len is 512 MB; a claim hash is a few KB. */
export const DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024;
const MAX_ARRAY_LENGTH = 1 << 20;
/** Replies read here nest two deep; without a bound, `*1\r\n` repeated overflows the stack. */
export const MAX_ARRAY_DEPTH = 64;

// Returned by the parsing steps when the buffer ends inside the current reply.
const INCOMPLETE: unique symbol = Symbol('incomplete');
type Parsed = RespValue | typeof INCOMPLETE;

export class RespReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private generation = 0;
  private depth = 0;

  /** `onReply` must not throw: a throw would lose the replies after it in the chunk. */
  constructor(
    private readonly onReply: (value: RespValue) => void,
    private readonly maxReplyBytes = DEFAULT_MAX_REPLY_BYTES,
  ) {}

  /** Bytes received but not yet part of a complete reply. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Drops buffered bytes; also stops a `feed` in progress (its caller dropped the stream). */
  reset(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.generation++;
  }

  /** Parses every complete reply in `chunk` (plus what was left over); throws RespProtocolError. */
  feed(chunk: Buffer): void {
    const buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const generation = this.generation;
    let start = 0;
    while (start < buf.length) {
      this.pos = start;
      const value = this.value(buf);
      if (value === INCOMPLETE) {
        if (buf.length - start > this.maxReplyBytes) {
          this.reset();
          throw new RespProtocolError(`a reply exceeds ${this.maxReplyBytes} bytes`);
        }
        this.buf = buf.subarray(start);
        return;
      }
      start = this.pos;
      this.onReply(value);
      if (this.generation !== generation) return;
    }
    this.buf = EMPTY;
  }

  private value(buf: Buffer): Parsed {
    if (this.pos >= buf.length) return INCOMPLETE;
    const type = buf[this.pos]!;
    this.pos++;
    switch (type) {
      case 0x24: // '$' bulk string
        return this.bulk(buf);
      case 0x2a: // '*' array
        return this.array(buf);
      case 0x2b: // '+' simple string
        return this.line(buf);
      case 0x2d: {
        // '-' error
        const text = this.line(buf);
        return text === INCOMPLETE ? INCOMPLETE : new RespErrorReply(text);
      }
      case 0x3a: {
        // ':' integer (beyond 2^53 it loses precision; no command used here returns one)
        const text = this.line(buf);
        if (text === INCOMPLETE) return INCOMPLETE;
        const n = Number(text);
        if (!/^-?\d+$/.test(text) || !Number.isFinite(n)) {
          this.reset();
          throw new RespProtocolError('malformed integer reply');
        }
        return n;
      }
      default:
        this.reset();
        throw new RespProtocolError(`unexpected RESP type byte 0x${type.toString(16)}`);
    }
  }

  private line(buf: Buffer): string | typeof INCOMPLETE {
    const cr = buf.indexOf(CR, this.pos);
    if (cr < 0 || cr + 1 >= buf.length) return INCOMPLETE;
    if (buf[cr + 1] !== 0x0a) {
      this.reset();
      throw new RespProtocolError('a RESP line not terminated by CRLF');
    }
    const text = buf.toString('utf8', this.pos, cr);
    this.pos = cr + 2;
    return text;
  }

  /** A length (decimal, -1 for nil) up to CRLF, without allocating a string. */
  private length(buf: Buffer): number | typeof INCOMPLETE {
    let i = this.pos;
    let negative = false;
    if (i < buf.length && buf[i] === 0x2d) {
      negative = true;
      i++;
    }
    let n = 0;
    let digits = 0;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === CR) break;
      if (c < 0x30 || c > 0x39 || digits >= 16) {
        this.reset();
        throw new RespProtocolError('malformed length in RESP reply');
      }
      n = n * 10 + (c - 0x30);
      digits++;
    }
    if (i + 1 >= buf.length) return INCOMPLETE;
    if (digits === 0 || buf[i + 1] !== 0x0a) {
      this.reset();
      throw new RespProtocolError('malformed length in RESP reply');
    }
    this.pos = i + 2;
    return negative ? -n : n;
  }

  private bulk(buf: Buffer): Parsed {
    const length = this.length(buf);
    if (length === INCOMPLETE) return INCOMPLETE;
    if (length === -1) return null;
    if (length < 0 || length > this.maxReplyBytes) {
      this.reset();
      throw new RespProtocolError(`bad bulk string length ${length}`);
    }
    const end = this.pos + length;
    if (end + 2 > buf.length) return INCOMPLETE;
    if (buf[end] !== CR || buf[end + 1] !== 0x0a) {
      this.reset();
      throw new RespProtocolError('bulk string not terminated by CRLF');
    }
    const text = buf.toString('utf8', this.pos, end);
    this.pos = end + 2;
    return text;
  }

  private array(buf: Buffer): Parsed {
    const length = this.length(buf);
    if (length === INCOMPLETE) return INCOMPLETE;
    if (length === -1) return null;
    if (length < 0 || length > MAX_ARRAY_LENGTH) {
      this.reset();
      throw new RespProtocolError(`bad array length ${length}`);
    }
    if (this.depth >= MAX_ARRAY_DEPTH) {
      this.reset();
      throw new RespProtocolError(`arrays nested deeper than ${MAX_ARRAY_DEPTH}`);
    }
    const items: RespValue[] = new Array(length);
    this.depth++;
    try {
      for (let k = 0; k < length; k++) {
        const item = this.value(buf);
        if (item === INCOMPLETE) return INCOMPLETE;
        items[k] = item;
      }
    } finally {
      this.depth--;
    }
    return items;
  }
}

/** One command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}
