// The parser: a pure function over the bytes received so far, and an incremental wrapper
// that takes chunks as they arrive (a header may be split at any byte) and buffers no more
// than the header can be. Neither guesses whether a header is there: the caller asked for
// one, so anything else is a refusal.
import {
  DEFAULT_MAX_BYTES,
  MAX_MAX_BYTES,
  MIN_MAX_BYTES,
  V1_MAX_LENGTH,
  V2_FIXED_LENGTH,
} from './constants.js';
import { ProxyProtocolError } from './errors.js';
import { refuse } from './refusal.js';
import type { ParseResult, ParserOptions, PrefixParseResult, ProxyVersion } from './types.js';
import { parseV1 } from './v1.js';
import { parseV2 } from './v2.js';

const V1_FIRST_BYTE = 0x50; // 'P'
const V2_FIRST_BYTE = 0x0d; // CR

interface Resolved {
  readonly maxBytes: number;
  readonly v1: boolean;
  readonly v2: boolean;
}

/** Checks options once, when a parser is made; throws `invalid_options`. */
export function resolveParserOptions(options: ParserOptions = {}): Resolved {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < MIN_MAX_BYTES || maxBytes > MAX_MAX_BYTES) {
    throw new ProxyProtocolError(
      'invalid_options',
      `maxBytes must be an integer from ${MIN_MAX_BYTES} to ${MAX_MAX_BYTES}, got ${String(maxBytes)}`,
    );
  }
  const versions: readonly ProxyVersion[] = options.versions ?? [1, 2];
  if (versions.length === 0 || versions.some((v) => v !== 1 && v !== 2)) {
    throw new ProxyProtocolError('invalid_options', 'versions must be a non-empty list of 1 and 2');
  }
  return { maxBytes, v1: versions.includes(1), v2: versions.includes(2) };
}

/**
 * Parse a PROXY header at the start of `bytes`, the bytes received so far. Answers
 * `incomplete` (the bytes are a valid beginning; wait for more), `complete` with `consumed`
 * (the header's length: `bytes.subarray(consumed)` is payload), or `refused`. Never throws
 * on any bytes.
 */
export function parseProxyHeader(bytes: Uint8Array, options?: ParserOptions): PrefixParseResult {
  return parsePrefix(bytes, resolveParserOptions(options));
}

function parsePrefix(bytes: Uint8Array, options: Resolved): PrefixParseResult {
  if (bytes.length === 0) return { status: 'incomplete' };
  const first = bytes[0];
  if (first === V1_FIRST_BYTE) {
    if (!options.v1) return refuse('version_not_allowed', 'PROXY v1 header where only v2 is accepted');
    return parseV1(bytes);
  }
  if (first === V2_FIRST_BYTE) {
    if (!options.v2) {
      // Refused on its first byte: the caller said which versions its senders use.
      return refuse('version_not_allowed', 'PROXY v2 header where only v1 is accepted');
    }
    return parseV2(bytes, options.maxBytes);
  }
  // Only the first byte decides, so the message is the same however the bytes were split.
  return refuse(
    'not_proxy_protocol',
    `not a PROXY header: first byte 0x${first!.toString(16).padStart(2, '0')}`,
  );
}

/**
 * Feed it chunks as they arrive with `push`; each answer is `incomplete`, `complete` (with
 * the payload bytes that followed the header in what was pushed), or `refused`. After
 * `complete` or `refused` the parser is finished and push throws `parser_finished`.
 */
export class ProxyHeaderParser {
  readonly #options: Resolved;
  #buffer: Buffer | null = null;
  #buffered = 0;
  #finished = false;

  constructor(options?: ParserOptions) {
    this.#options = resolveParserOptions(options);
  }

  /** How many bytes are held, waiting for the rest of the header. */
  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): ParseResult {
    if (this.#finished) {
      throw new ProxyProtocolError('parser_finished', 'push() after the parser answered complete or refused');
    }
    if (this.#buffered === 0) {
      // The usual case: the whole header is in the first chunk. Parse it where it lies; copy
      // only when it is not whole yet.
      const result = parsePrefix(chunk, this.#options);
      if (result.status !== 'incomplete') {
        this.#finished = true;
        if (result.status === 'refused') return result;
        const payload = Buffer.from(
          chunk.buffer,
          chunk.byteOffset + result.consumed,
          chunk.length - result.consumed,
        );
        return { status: 'complete', header: result.header, payload };
      }
    }
    let offset = 0;
    for (;;) {
      const capacity = this.#capacity(this.#buffered > 0 ? this.#buffer![0]! : chunk[0]);
      const take = Math.min(capacity - this.#buffered, chunk.length - offset);
      if (take > 0) {
        this.#reserve(capacity);
        this.#buffer!.set(chunk.subarray(offset, offset + take), this.#buffered);
        this.#buffered += take;
        offset += take;
      }
      const held = this.#buffer === null ? Buffer.alloc(0) : this.#buffer.subarray(0, this.#buffered);
      const result = parsePrefix(held, this.#options);
      if (result.status === 'incomplete') {
        // Knowing the v2 length can raise the capacity: take more of this chunk.
        if (offset < chunk.length && this.#capacity(held[0]) > this.#buffered) continue;
        return { status: 'incomplete', buffered: this.#buffered };
      }
      this.#finished = true;
      const buffer = this.#buffer;
      this.#buffer = null;
      if (result.status === 'refused') return result;
      const rest = Buffer.from(chunk.buffer, chunk.byteOffset + offset, chunk.length - offset);
      const leftover = buffer!.subarray(result.consumed, this.#buffered);
      const payload = leftover.length === 0 ? rest : Buffer.concat([leftover, rest]);
      return { status: 'complete', header: result.header, payload };
    }
  }

  /** The most bytes worth holding given what is known: never more than the header can be. */
  #capacity(first: number | undefined): number {
    if (first === V1_FIRST_BYTE) return V1_MAX_LENGTH;
    if (first !== V2_FIRST_BYTE) return 1;
    if (this.#buffered < V2_FIXED_LENGTH) return V2_FIXED_LENGTH;
    const total = V2_FIXED_LENGTH + ((this.#buffer![14]! << 8) | this.#buffer![15]!);
    return total <= this.#options.maxBytes ? total : V2_FIXED_LENGTH;
  }

  #reserve(capacity: number): void {
    if (this.#buffer !== null && this.#buffer.length >= capacity) return;
    const next = Buffer.allocUnsafe(capacity);
    if (this.#buffer !== null) this.#buffer.copy(next, 0, 0, this.#buffered);
    this.#buffer = next;
  }
}
