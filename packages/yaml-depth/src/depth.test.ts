// The depth bound against the `yaml` package's own reading: exact where YAML indents what it
// nests, never more than the real depth, never less than half of it; and fast to refuse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument, stringify } from 'yaml';
import { yamlTooDeepAt } from './depth.js';

/** The smallest limit the text stays within. */
function counted(text: string): number {
  let limit = 0;
  while (yamlTooDeepAt(text, limit) !== null) limit++;
  return limit;
}

/** Nesting depth of a parsed value: each array or object (empty ones too) is a level. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('yamlTooDeepAt', () => {
  it.each([
    ['a block sequence, compact', `${'- '.repeat(10)}a\n`, 10],
    ['block mappings', `${Array.from({ length: 10 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n')} v\n`, 10],
    ['sequences indented under their keys', 'a:\n  - b:\n      - c:\n          - d\n', 6],
    ['siblings, and flow inside block', 'a: 1\nb: 2\nc:\n  d: 3\n  e: [1, [2, [3]]]\nf: 4\n', 5],
    ['flow', '[[[[1]]]]', 4],
    ['explicit keys', '? a\n: b\n? - c\n  - d\n: e\n', 2],
    ['dashes and colons in a block scalar', 'a: |\n  - x\n  - - - y\n  k: v\nb: c\n', 1],
    ['dashes and colons in quoted scalars and comments', 'a: "- - - :" # - - - b: c\nb: \'x: y\'\n', 1],
    ['anchors, tags and aliases', 'a: &x\n  - !!str b\n  - *x\nc: !t\n  d: e\n', 2],
    ['the deepest document of several', '- - - a\n---\n- b\n...\n', 3],
    ['a node on the document marker’s line', '--- - a: b\n  c: d\n', 2],
    ['tags and anchors before a compact node', '- !!map &m a: b\n  c: d\n- &s - e\n', 2],
    // YAML lets a block sequence sit at its parent key's own column: counted as a sibling.
    ['sequences at their keys’ column (counted half)', 'a:\n- b:\n  - c:\n    - d\n', 3],
  ])('%s', (_name, text, depth) => {
    expect(counted(text)).toBe(depth);
  });

  it('says where: the indicator or bracket that opens the level past the limit', () => {
    expect(yamlTooDeepAt('- - - a\n', 2)).toBe(4);
    expect(yamlTooDeepAt('a:\n  b:\n    c: d\n', 2)).toBe(13);
    expect(yamlTooDeepAt('a: [[b]]\n', 2)).toBe(4);
    expect(yamlTooDeepAt('a: [[b]]\n', 3)).toBeNull();
  });

  it('refuses a text far past the limit at once (it stops at the first level past it)', () => {
    const text = `${'- '.repeat(500_000)}a\n`;
    const started = performance.now();
    expect(yamlTooDeepAt(text, 64)).toBe(128);
    // Lexing all of it takes a quarter of a second or more; stopping early, a few milliseconds.
    expect(performance.now() - started).toBeLessThan(200);
  });

  const key = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/),
    fc.constantFrom('- a', 'a: b', '? x', '#c', '[x]', '{y}', '"q"', "it's", ' lead', 'k\nl'),
  );
  const scalar = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('- - -', 'a: b: c', 'multi\nline\n- x\n  - y', '[1, 2]', '  spaced  ', '|', '>-'),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  }));

  it('counts what the parser reads: exactly, when sequences are indented under their keys', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 4 }), (v, indent) => {
        const text = stringify(v, { indent, indentSeq: true });
        const real = depthOf(parse(text));
        expect(real).toBe(depthOf(v));
        expect(counted(text)).toBe(real);
      }),
      { numRuns: 3000 },
    );
  });

  it('never more than the real depth, never less than half, however the text is laid out', () => {
    fc.assert(
      fc.property(
        value,
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.constantFrom('block', 'flow', 'any'),
        (v, indent, indentSeq, collectionStyle) => {
          const text = stringify(v, {
            indent,
            indentSeq,
            collectionStyle: collectionStyle as 'block' | 'flow' | 'any',
          });
          // The writer itself puts an empty flow collection where a key's block value would go
          // without indenting it, which no reader takes ({"a":[]}, indentSeq off): left out.
          const doc = parseDocument(text);
          fc.pre(doc.errors.length === 0);
          const real = depthOf(doc.toJS());
          const count = counted(text);
          expect(count).toBeLessThanOrEqual(real);
          expect(count).toBeGreaterThanOrEqual(Math.ceil(real / 2));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
