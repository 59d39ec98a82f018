// A minimal RESP2 reader and command encoder: only what the lookup connection needs
// (HGETALL, AUTH, SELECT, PING). Replies may arrive split at any byte or many per chunk;
// the reader keeps the unparsed tail and resumes when more bytes arrive.
//
// Linear in the bytes received however a reply is split: a chunk is parsed in place when
// nothing is held back (the common case: small replies arriving whole, no copy); otherwise it is
// appended to a tail buffer of the reader's own that grows by doubling (re-concatenating the tail
// with each chunk was quadratic), and the tail is only scanned on from where the last chunk left
// off (scan) until it holds a whole reply, which is then parsed once.

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
/** The tail buffer's smallest size. */
const MIN_TAIL_BYTES = 4096;
/** An empty tail buffer larger than this is dropped: one large reply must not pin it. */
const RETAINED_TAIL_BYTES = 64 * 1024;
/** Replies read here nest two deep; without a bound, `*1\r\n` repeated overflows the stack. */
export const MAX_ARRAY_DEPTH = 64;

// Returned by the parsing steps when the buffer ends inside the current reply.
const INCOMPLETE: unique symbol = Symbol('incomplete');
type Parsed = RespValue | typeof INCOMPLETE;

export class RespReader {
  /** Bytes of an incomplete reply (and nothing after it): `tail[0, tailLength)`. */
  private tail: Buffer = EMPTY;
  private tailLength = 0;
  // How far the tail has been scanned: the next element's offset, the elements still expected
  // by each array open there, the tail length a bulk string at scanPos needs to be whole, and
  // where to go on looking for a line's CR.
  private scanPos = 0;
  private open: number[] = [];
  private need = 0;
  private crFrom = 0;
  private pos = 0;
  private generation = 0;
  private depth = 0;
  /** Bytes copied into the tail buffer (at most about three times the bytes received); for tests. */
  bytesCopied = 0;

  /** `onReply` must not throw: a throw would lose the replies after it in the chunk. */
  constructor(
    private readonly onReply: (value: RespValue) => void,
    private readonly maxReplyBytes = DEFAULT_MAX_REPLY_BYTES,
  ) {}

  /** Bytes received but not yet part of a complete reply. */
  get buffered(): number {
    return this.tailLength;
  }

  /** Drops buffered bytes; also stops a `feed` in progress (its caller dropped the stream). */
  reset(): void {
    this.tail = EMPTY;
    this.tailLength = 0;
    this.restartScan();
    this.pos = 0;
    this.generation++;
  }

  /** Parses every complete reply in `chunk` (plus what was left over); throws RespProtocolError. */
  feed(chunk: Buffer): void {
    if (this.tailLength === 0) {
      this.parse(chunk, false);
      return;
    }
    this.append(chunk);
    if (this.tailLength < this.need || !this.scan()) {
      if (this.tailLength > this.maxReplyBytes) this.tooLarge();
      return;
    }
    // The tail holds a whole reply now (and maybe the start of the next): parse it once.
    const buf = this.tail.subarray(0, this.tailLength);
    this.tailLength = 0;
    this.restartScan();
    this.parse(buf, true);
    if (this.tailLength === 0 && this.tail.length > RETAINED_TAIL_BYTES) this.tail = EMPTY;
  }

  /** Every complete reply in `buf`; an incomplete one at its end is kept. `owned`: buf is the tail. */
  private parse(buf: Buffer, owned: boolean): void {
    const generation = this.generation;
    let start = 0;
    while (start < buf.length) {
      this.pos = start;
      const value = this.value(buf);
      if (value === INCOMPLETE) {
        if (buf.length - start > this.maxReplyBytes) this.tooLarge();
        this.keep(buf, start, owned);
        return;
      }
      start = this.pos;
      this.onReply(value);
      if (this.generation !== generation) return;
    }
  }

  /** Makes `buf[start..]` the tail: copied to the tail buffer's start (moved, when it is in it). */
  private keep(buf: Buffer, start: number, owned: boolean): void {
    const length = buf.length - start;
    if (owned) {
      if (start > 0) this.tail.copyWithin(0, start, buf.length);
    } else {
      if (this.tail.length < length) this.tail = Buffer.allocUnsafeSlow(Math.max(length * 2, MIN_TAIL_BYTES));
      buf.copy(this.tail, 0, start);
    }
    if (!owned || start > 0) this.bytesCopied += length;
    this.tailLength = length;
  }

  private append(chunk: Buffer): void {
    const length = this.tailLength + chunk.length;
    if (length > this.tail.length) {
      // Doubling: the bytes copied while growing add up to less than the final size.
      const grown = Buffer.allocUnsafeSlow(
        Math.max(length, Math.min(this.tail.length * 2, this.maxReplyBytes)),
      );
      this.tail.copy(grown, 0, 0, this.tailLength);
      this.bytesCopied += this.tailLength;
      this.tail = grown;
    }
    chunk.copy(this.tail, this.tailLength);
    this.bytesCopied += chunk.length;
    this.tailLength = length;
  }

  private restartScan(): void {
    this.scanPos = 0;
    this.open = [];
    this.need = 0;
    this.crFrom = 0;
  }

  /**
   * Whether the tail holds a whole reply, scanning on from where the last call stopped (each
   * byte is looked at about once). It refuses what `value` would refuse as soon as `value`
   * would; the bulk strings are not decoded here, only once the reply is whole.
   */
  private scan(): boolean {
    const buf = this.tail.subarray(0, this.tailLength);
    for (;;) {
      const at = this.scanPos;
      if (at >= buf.length) return false;
      const type = buf[at]!;
      let next: number;
      if (type === 0x24 || type === 0x2a) {
        // A length is at most 17 bytes (see `length`): reading it again from its start is cheap.
        this.pos = at + 1;
        const length = this.length(buf);
        if (length === INCOMPLETE) return false;
        if (type === 0x24) {
          this.checkBulkLength(length);
          next = length === -1 ? this.pos : this.pos + length + 2;
          if (next > buf.length) {
            this.need = next;
            return false;
          }
          if (length !== -1 && (buf[next - 2] !== CR || buf[next - 1] !== 0x0a)) {
            this.reset();
            throw new RespProtocolError('bulk string not terminated by CRLF');
          }
        } else {
          this.checkArrayLength(length);
          if (length > 0) {
            this.checkDepth(this.open.length);
            this.open.push(length);
            this.scanPos = this.pos;
            continue;
          }
          next = this.pos;
        }
      } else if (type === 0x2b || type === 0x2d || type === 0x3a) {
        const cr = buf.indexOf(CR, Math.max(this.crFrom, at + 1));
        if (cr < 0 || cr + 1 >= buf.length) {
          this.crFrom = cr < 0 ? buf.length : cr;
          return false;
        }
        // Whole: read once, for the checks a malformed line must fail at once (CRLF, integer).
        this.pos = at;
        this.value(buf);
        next = this.pos;
      } else {
        this.badType(type);
      }
      this.scanPos = next;
      this.crFrom = 0;
      // The element is whole: so is every array it was the last element of.
      while (this.open.length > 0 && --this.open[this.open.length - 1]! === 0) this.open.pop();
      if (this.open.length === 0) return true;
    }
  }

  private tooLarge(): never {
    this.reset();
    throw new RespProtocolError(`a reply exceeds ${this.maxReplyBytes} bytes`);
  }

  private badType(type: number): never {
    this.reset();
    throw new RespProtocolError(`unexpected RESP type byte 0x${type.toString(16)}`);
  }

  private checkBulkLength(length: number): void {
    if (length < -1 || length > this.maxReplyBytes) {
      this.reset();
      throw new RespProtocolError(`bad bulk string length ${length}`);
    }
  }

  private checkArrayLength(length: number): void {
    if (length < -1 || length > MAX_ARRAY_LENGTH) {
      this.reset();
      throw new RespProtocolError(`bad array length ${length}`);
    }
  }

  /** `depth`: the arrays open around the one about to open. */
  private checkDepth(depth: number): void {
    if (depth >= MAX_ARRAY_DEPTH) {
      this.reset();
      throw new RespProtocolError(`arrays nested deeper than ${MAX_ARRAY_DEPTH}`);
    }
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
        return this.badType(type);
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
    this.checkBulkLength(length);
    if (length === -1) return null;
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
    this.checkArrayLength(length);
    if (length === -1) return null;
    this.checkDepth(this.depth);
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
  return encodeCommandStart(args.length, args);
}

/**
 * The start of a command of `count` arguments, its first ones `args`; the rest follow, one
 * encodeBulk each. For a command sent on every lookup whose leading arguments never change.
 */
export function encodeCommandStart(count: number, args: readonly string[]): string {
  let out = `*${count}\r\n`;
  for (const arg of args) out += encodeBulk(arg);
  return out;
}

/** One argument of a command, as a RESP bulk string. */
export function encodeBulk(arg: string): string {
  return `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
}
