// `string.matches(re)` with RE2 semantics (linear time). The CEL library's own `matches` uses
// JavaScript's backtracking RegExp, which an attacker-chosen annotation value can stall for
// seconds; compile.ts points every checked `matches` call at this function instead.
import { RE2JS } from 're2js';

const CACHE_MAX = 1024;
const cache = new Map<string, RE2JS>();

export class RegexError extends Error {
  override name = 'RegexError';
}

/** Compiles (cached) or throws RegexError with the reason. */
export function compileRegex(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    throw new RegexError(
      `invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`,
    );
  }
  // Patterns can come from connection data; a full cache is dropped rather than grown.
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** CEL `matches`: true when the pattern matches any part of the string. */
export function re2Matches(text: unknown, pattern: unknown): boolean {
  if (typeof text !== 'string' || typeof pattern !== 'string') {
    throw new RegexError(`matches() needs two strings, got ${typeof text} and ${typeof pattern}`);
  }
  return compileRegex(pattern).test(text);
}
