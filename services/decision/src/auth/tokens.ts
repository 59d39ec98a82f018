// Bearer tokens: a token file holds one a line (blank lines and `#` comments skipped). The
// file's tokens are kept as SHA-256 digests, and a presented token is compared with every one
// of them in constant time, without stopping at a match: neither the time taken nor an early
// exit tells a caller how much of a guess was right, or which token it was close to.
//
// A presented token once accepted is remembered as presented (in its set, in memory only, so a
// reload starts afresh): a proxy sends the same token on every request, and a SHA-256 per
// request cost 2.6 us. Only accepted tokens are remembered, so a wrong one is always hashed and
// compared; looking a guess up among them reveals nothing a caller can use
// (docs/adr/0006-decision-hot-path.md). The cost: tokens in use sit in the heap in clear, as
// they do anyway while their requests are read.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface TokenSet {
  /** How many tokens the file holds (0: every request is refused). */
  readonly count: number;
  /** `presented` is one of the tokens. */
  matches(presented: string): boolean;
  /** How many accepted tokens are remembered now (at most rememberedLimit). */
  readonly remembered: number;
  readonly rememberedLimit: number;
}

/** Accepted tokens remembered per set: more than one deployment's proxies use. */
const REMEMBERED = 64;

/** RFC 6750's b64token: what may follow `Bearer ` in an Authorization header. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** A longer line is not a token: refusing it keeps a binary file from being hashed line by line. */
const MAX_TOKEN_LENGTH = 4096;

export type ParsedTokenFile =
  | { ok: true; tokens: TokenSet; warnings: string[] }
  | { ok: false; reason: string };

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Parses a token file's text; `file` names it in messages (tokens themselves never appear). */
export function parseTokenFile(text: string, file: string): ParsedTokenFile {
  const digests: Buffer[] = [];
  const warnings: string[] = [];
  const bad: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(line)) {
      bad.push(i + 1);
      continue;
    }
    if (line.length < 16) warnings.push(`${file}:${i + 1}: token shorter than 16 characters: easy to guess`);
    digests.push(digest(line));
  }
  if (bad.length > 0) {
    const where = bad.slice(0, 10).join(', ');
    return {
      ok: false,
      reason: `${file}: line ${where}: not a bearer token (one token a line: A-Z a-z 0-9 - . _ ~ + /, then = padding)`,
    };
  }
  return { ok: true, tokens: tokenSet(digests), warnings };
}

function tokenSet(digests: readonly Buffer[]): TokenSet {
  // A Set compares a string's hash before its characters: a guess reaches a character-by-
  // character comparison with a remembered token only if its whole-string hash is equal.
  const accepted = new Set<string>();
  const limit = Math.max(REMEMBERED, digests.length);
  return {
    count: digests.length,
    get remembered() {
      return accepted.size;
    },
    rememberedLimit: limit,
    matches(presented) {
      if (accepted.has(presented)) return true;
      if (presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) return false;
      const candidate = digest(presented);
      let found = 0;
      for (const known of digests) found |= timingSafeEqual(candidate, known) ? 1 : 0;
      if (found !== 1) return false;
      // Bounded without bookkeeping: when full, start again (the next requests refill it).
      if (accepted.size >= limit) accepted.clear();
      accepted.add(presented);
      return true;
    },
  };
}

/** The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive), or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null) return null;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match === null ? null : match[1]!;
}
