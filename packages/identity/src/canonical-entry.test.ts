import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonicalEntry } from './canonical-entry.js';
import { decodeEntry, encodeEntry, parseEntry, type StoredClaim } from './claim.js';
import { ERR_TOO_LARGE, type PodRecord } from './model.js';

/** The same claim, annotations' key order and prototype included. */
function expectSame(fast: StoredClaim | null | undefined, slow: StoredClaim | null): void {
  expect(fast).toEqual(slow);
  if (fast == null || slow === null) return;
  expect(Object.keys(fast)).toEqual(Object.keys(slow));
  expect(Object.entries(fast.annotations)).toEqual(Object.entries(slow.annotations));
  expect(Object.getPrototypeOf(fast.annotations)).toBe(Object.getPrototypeOf(slow.annotations));
  expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
}

// Strings with what JSON escapes, what it does not, keys an object treats specially.
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    '"',
    '\\',
    '\n',
    '\u0000',
    '\u007f',
    '\u2028',
    '\ud800',
    'é',
    '__proto__',
    '0',
    '1',
    'constructor',
  ),
);
const record: fc.Arbitrary<PodRecord> = fc.record({
  uid: fc.uuid(),
  name: text,
  namespace: text,
  annotations: fc.dictionary(text, text, { maxKeys: 5 }),
  errorCode: fc.constantFrom('' as const, ERR_TOO_LARGE),
  errorMessage: text,
  ips: fc.constant(['10.0.0.1']),
  resourceVersion: fc.oneof(fc.nat().map(String), text),
});

describe('decodeCanonicalEntry', () => {
  it('reads an entry as encodeEntry writes it', () => {
    const entry = encodeEntry(
      {
        uid: 'u',
        name: 'worker-1',
        namespace: 'payments',
        annotations: { 'k8s.ngrok.com/environment': 'production', team: 'ledger' },
        errorCode: '',
        errorMessage: '',
        ips: ['10.0.0.1', '10.0.0.2'],
        resourceVersion: '1042',
      },
      ['10.0.0.1', '10.0.0.2'],
    );
    const claim = decodeCanonicalEntry(entry);
    expect(claim).toEqual({
      resourceVersion: '1042',
      name: 'worker-1',
      namespace: 'payments',
      annotations: { 'k8s.ngrok.com/environment': 'production', team: 'ledger' },
      errorCode: '',
      errorMessage: '',
    });
    expectSame(claim, parseEntry(entry));
  });

  it.each([
    ['an escape', '{"v":"1","g":0,"i":"","n":"a\\"b","s":"s","a":{}}'],
    ['other spacing', '{"v":"1", "g":0,"i":"","n":"n","s":"s","a":{}}'],
    ['other order', '{"g":0,"v":"1","i":"","n":"n","s":"s","a":{}}'],
    ['a tombstone', '{"v":"1","g":1,"i":""}'],
    ['another member', '{"v":"1","g":0,"i":"","n":"n","s":"s","a":{},"x":1}'],
    ['another error code', '{"v":"1","g":0,"i":"","n":"n","s":"s","a":{},"e":"ERR_OTHER","m":""}'],
    ['an annotation that is not a string', '{"v":"1","g":0,"i":"","n":"n","s":"s","a":{"k":1}}'],
    ['an own __proto__ annotation', '{"v":"1","g":0,"i":"","n":"n","s":"s","a":{"__proto__":"x"}}'],
    ['trailing text', '{"v":"1","g":0,"i":"","n":"n","s":"s","a":{}} '],
    ['a cut entry', '{"v":"1","g":0,"i":"","n":"n","s":"s","a":{"k":"v"'],
    ['not JSON', 'nope'],
  ])('leaves %s to JSON.parse', (_, entry) => {
    expect(decodeCanonicalEntry(entry)).toBeUndefined();
  });

  it('decodes what JSON.parse decodes, alike, for every record encodeEntry writes', () => {
    let taken = 0;
    fc.assert(
      fc.property(record, (r) => {
        const entry = encodeEntry(r, r.ips);
        const slow = parseEntry(entry);
        expect(slow).not.toBeNull();
        const fast = decodeCanonicalEntry(entry);
        if (fast !== undefined) {
          taken++;
          expectSame(fast, slow);
        }
        expectSame(decodeEntry(entry), slow);
      }),
      { numRuns: 2_000 },
    );
    // The fast path is taken whenever nothing needed escaping: not merely always declined.
    expect(taken).toBeGreaterThan(200);
  });

  it('never reads a changed entry differently from JSON.parse (cut, spliced, repeated keys)', () => {
    const changed = fc
      .tuple(record, fc.nat(), fc.nat(), text, fc.boolean())
      .map(([r, at, length, insert, repeat]) => {
        const entry = encodeEntry(
          repeat ? { ...r, annotations: { ...r.annotations, k: 'first' } } : r,
          r.ips,
        );
        const spliced = (e: string) => {
          const from = at % (e.length + 1);
          return e.slice(0, from) + insert + e.slice(from + (length % 8));
        };
        // A repeated annotation key: JSON.parse keeps the last value in the first key's place.
        return repeat
          ? spliced(entry.replace('"k":"first"', '"k":"first","x":"y","k":"last"'))
          : spliced(entry);
      });
    fc.assert(
      fc.property(changed, (entry) => {
        const fast = decodeCanonicalEntry(entry);
        if (fast !== undefined) expectSame(fast, parseEntry(entry));
        expectSame(decodeEntry(entry), parseEntry(entry));
      }),
      { numRuns: 5_000 },
    );
  });
});
