// The depth bound against the `yaml` package's own reading: never more than the real depth (no
// document within the limit is refused), at most one level less; every shape found to slip past
// an earlier count refused; fast to refuse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument, stringify } from 'yaml';
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
  if (value instanceof Map) return 1 + Math.max(0, ...[...value].flat().map(depthOf));
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** The deepest document of a text, as the `yaml` package reads it (keys may be collections). */
const realDepth = (text: string) =>
  Math.max(0, ...parseAllDocuments(text).map((d) => depthOf(d.toJS({ mapAsMap: true }))));

describe('yamlTooDeepAt', () => {
  it.each([
    ['a block sequence, compact', `${'- '.repeat(10)}a\n`],
    ['block mappings', `${Array.from({ length: 10 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n')} v\n`],
    ['sequences indented under their keys', 'a:\n  - b:\n      - c:\n          - d\n'],
    ['sequences at their keys’ column', 'a:\n- b:\n  - c:\n    - d\n'],
    ['flow inside block', 'a: 1\nb: 2\nc:\n  d: 3\n  e: [1, [2, [3]]]\nf: 4\n'],
    ['flow', '[[[[1]]]]'],
    ['explicit keys', '? a\n: b\n? - c\n  - d\n: e\n'],
    ['dashes and colons in a block scalar', 'a: |\n  - x\n  - - - y\n  k: v\nb: c\n'],
    ['dashes and colons in quoted scalars and comments', 'a: "- - - :" # - - - b: c\nb: \'x: y\'\n'],
    ['anchors, tags and aliases', 'a: &x\n  - !!str b\n  - [c]\nc: *x\nd: !t\n  e: f\n'],
    ['several documents', '- - - a\n---\n- b\n...\n'],
    ['plain scalars that read --- and ...', '[[[---, [[[x]]]]]]\na: ---\nb:\n  c: ...\n  d:\n    e: x\n'],
    ['keys named -', '-:\n  -: x\n'],
    ['keys named ?', '?:\n  ?: y\n'],
    ['a key named - in a sequence', '- -:\n'],
    ['no collection at all', 'a\n'],
    ['nothing', ''],
  ])('%s: the real depth, or one level less', (_name, text) => {
    const real = realDepth(text);
    expect(counted(text)).toBeLessThanOrEqual(real);
    expect(counted(text)).toBeGreaterThanOrEqual(real - 1);
  });

  it('says where: the token at which the text is found nesting past the limit', () => {
    expect(yamlTooDeepAt('- - - a\n', 2)).toBe(6); // the scalar in the third level
    expect(yamlTooDeepAt('a:\n  b:\n    c: d\n', 2)).toBe(15);
    expect(yamlTooDeepAt('a: [[b]]\n', 2)).toBeNull();
    expect(yamlTooDeepAt('a: [[[b]]]\n', 2)).toBe(5); // the third bracket
  });

  // Shapes that slipped past an earlier bound, which counted indicators and indentation itself:
  // each let a parser recurse thousands of levels deep, and the fourth killed a fresh process
  // reading it as a pods file (V8's fatal RegExpCompiler error).
  it.each([
    [
      'plain scalars `---` that reset a count',
      `${`${'['.repeat(60)}---, `.repeat(100)}x${']'.repeat(6000)}\n`,
    ],
    ['block sequences inside a flow collection', `[\n${'- '.repeat(3000)}a]\n`],
    ['a flow collection cut off by unindentation', `- [\n${'- '.repeat(5000)}a\n`],
    ['a second `:` on each key line', 'a: :\n'.repeat(5000)],
    ['a second `?` on each key line', 'a: ?\n'.repeat(5000)],
    [
      'tabs in indentation',
      `${Array.from({ length: 10 }, (_, j) => `${' '.repeat(120 * j)}${'\t'.repeat(1201 - 120 * j)}${'- '.repeat(60)}`).join('\n')}x\n`,
    ],
    ['a block sequence, half a million levels', `${'- '.repeat(500_000)}a\n`],
  ])('refused at the limit: %s', (_name, text) => {
    expect(yamlTooDeepAt(text, 65)).not.toBeNull();
  });

  it('flow sequences of `k: v` entries (a map each, with no stack entry): at least half the depth', () => {
    const text = '[a: [a: [a: x]]]\n';
    expect(realDepth(text)).toBe(6);
    expect(counted(text)).toBe(3);
    expect(yamlTooDeepAt(`x: ${'[a: '.repeat(200)}x${']'.repeat(200)}\n`, 65)).not.toBeNull();
  });

  it('does not refuse deep but allowed keys named `-` (an earlier bound counted them twice)', () => {
    const text = `${Array.from({ length: 33 }, (_, i) => `${'  '.repeat(i)}-:`).join('\n')} x\n`;
    expect(realDepth(text)).toBe(33);
    expect(yamlTooDeepAt(text, 33)).toBeNull();
  });

  it('answers a limit too large for the stack: the parser running out of it is too deep', () => {
    const text = `[\n${'- '.repeat(20_000)}a]\n`;
    expect(yamlTooDeepAt(text, 1_000_000)).toBe(text.length - 2);
  });

  it('stops at the first level past the limit', () => {
    const text = `${'- '.repeat(500_000)}a\n`;
    const started = performance.now();
    expect(yamlTooDeepAt(text, 64)).toBe(130);
    // Reading all of it takes a second or more; stopping early, milliseconds.
    expect(performance.now() - started).toBeLessThan(200);
  });

  // Strings a count of indicators mistook for indicators or document markers.
  const INDICATOR_LIKE = ['-', '?', ':', '---', '...'];
  const key = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/),
    fc.constantFrom(...INDICATOR_LIKE, '- a', 'a: b', '? x', '#c', '[x]', '{y}', '"q"', ' lead', 'k\nl'),
  );
  const scalar = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 12 }),
    fc.constantFrom(...INDICATOR_LIKE, '- - -', 'a: b: c', 'multi\nline\n- x\n  - y', '[1, 2]', '\t'),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  }));

  it('counts what the parser reads, however the text is laid out: the real depth or one less', () => {
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
          fc.pre(parseDocument(text).errors.length === 0);
          const real = realDepth(text);
          expect(real).toBe(depthOf(v));
          const count = counted(text);
          expect(count).toBeLessThanOrEqual(real);
          expect(count).toBeGreaterThanOrEqual(real - 1);
        },
      ),
      { numRuns: 4000 },
    );
  });
});
