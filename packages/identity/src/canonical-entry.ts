// decodeEntry's fast path for the common input: a pod entry exactly as encodeEntry writes it
// (JSON.stringify of {v, g: 0, i, n, s, a} and, for an unreadable pod, e and m), with no
// escape and no control character anywhere in it. Its strings are then the text between their
// quotes, and reading them by position is cheaper than JSON.parse building the object it
// would then be copied from (1.4-1.8 us of every lookup, measured: docs/decision.md).
// Anything else (escapes, other spacing or order, other members, a hostile writer's text) is
// left to JSON.parse: the answer is then what decodeEntry always gave, and a property test
// holds the two to the same claims.
import type { StoredClaim } from './claim.js';
import { ERR_TOO_LARGE } from './model.js';

const HEAD = '{"v":"';
/** A character JSON only allows escaped in a string: the text is then not taken by position. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f]/;

/**
 * The claim in `text` when it is in encodeEntry's form with nothing escaped (exactly what
 * JSON.parse-based decoding gives for it); undefined for anything else.
 */
export function decodeCanonicalEntry(text: string): StoredClaim | undefined {
  if (!text.startsWith(HEAD) || text.indexOf('\\') !== -1 || CONTROL.test(text)) return undefined;
  // Every string ends at the next quote: there are no escaped ones.
  let at = HEAD.length;
  let end = text.indexOf('"', at);
  if (end < 0) return undefined;
  const resourceVersion = text.slice(at, end);
  at = member(text, end, '","g":0,"i":"');
  if (at < 0) return undefined;
  end = text.indexOf('"', at); // the IPs: not part of the claim
  if (end < 0) return undefined;
  at = member(text, end, '","n":"');
  if (at < 0) return undefined;
  end = text.indexOf('"', at);
  if (end < 0) return undefined;
  const name = text.slice(at, end);
  at = member(text, end, '","s":"');
  if (at < 0) return undefined;
  end = text.indexOf('"', at);
  if (end < 0) return undefined;
  const namespace = text.slice(at, end);
  at = member(text, end, '","a":{');
  if (at < 0) return undefined;
  const annotations: Record<string, string> = {};
  if (text.charCodeAt(at) === 0x7d) {
    at++; // '}': none
  } else {
    for (;;) {
      if (text.charCodeAt(at) !== 0x22) return undefined; // '"'
      end = text.indexOf('"', at + 1);
      if (end < 0) return undefined;
      const key = text.slice(at + 1, end);
      // An own property named __proto__ is what JSON.parse makes; an assignment would not.
      if (key === '__proto__') return undefined;
      at = member(text, end, '":"');
      if (at < 0) return undefined;
      end = text.indexOf('"', at);
      if (end < 0) return undefined;
      // A repeated key: the last value in the first key's place, as JSON.parse does.
      annotations[key] = text.slice(at, end);
      const next = text.charCodeAt(end + 1);
      at = end + 2;
      if (next === 0x7d) break; // '}'
      if (next !== 0x2c) return undefined; // ','
    }
  }
  if (at === text.length - 1 && text.charCodeAt(at) === 0x7d) {
    return { resourceVersion, name, namespace, annotations, errorCode: '', errorMessage: '' };
  }
  // An unreadable pod's entry: `,"e":"<code>","m":"<message>"}`.
  at = member(text, at, ',"e":"');
  if (at < 0) return undefined;
  end = text.indexOf('"', at);
  if (end < 0 || text.slice(at, end) !== ERR_TOO_LARGE) return undefined;
  at = member(text, end, '","m":"');
  if (at < 0) return undefined;
  end = text.indexOf('"', at);
  if (end !== text.length - 2 || text.charCodeAt(end + 1) !== 0x7d) return undefined;
  return {
    resourceVersion,
    name,
    namespace,
    annotations,
    errorCode: ERR_TOO_LARGE,
    errorMessage: text.slice(at, end),
  };
}

/** Where the text after `between` starts, when `text` holds it from `end` on; else -1. */
function member(text: string, end: number, between: string): number {
  return text.startsWith(between, end) ? end + between.length : -1;
}
