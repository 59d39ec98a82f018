// Flow nesting in a pods file is bounded before any parser that recurses per level sees it: the
// `yaml` package's composer would otherwise recurse until the stack overflows (and near that, V8
// can die outright). Every reader (the whole file, the List envelope, an item with an anchor,
// read by `yaml`, and an item read by js-yaml) refuses it in the same words.
import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { parsePodsYaml } from './pods-yaml.js';

const LIMIT = 100;
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const list = (items: string, envelope = '') =>
  `apiVersion: v1\nitems:\n${items}kind: List\nmetadata:\n  resourceVersion: ""\n${envelope}`;
const POD = 'kind: Pod\nmetadata: {name: a, namespace: b, uid: c}\n';
const ITEM = '- kind: Pod\n  metadata: {name: a, namespace: b, uid: c}\n';
const ANCHORED_ITEM = '- kind: Pod\n  metadata: &m {name: a, namespace: b, uid: c}\n';
const TOO_DEEP = `nesting is too deep \\(the limit is ${LIMIT} levels\\)`;

describe('parsePodsYaml: flow nesting depth', () => {
  // Where: the line, and the column of the `[` that opens level LIMIT + 1 (js-yaml, which
  // counts block levels too, says where it stopped instead).
  it.each([
    ['a Pod document', `${POD}spec: ${nested(LIMIT + 1)}\n`, `3:${7 + LIMIT}`],
    ['a List item with an anchor', list(`${ANCHORED_ITEM}  spec: ${nested(LIMIT + 1)}\n`), `5:${9 + LIMIT}`],
    ['a List item', list(`${ITEM}  spec: ${nested(LIMIT + 1)}\n`), '5:\\d+'],
    ['the List envelope', list(ITEM, `extra: ${nested(LIMIT + 1)}\n`), `8:${8 + LIMIT}`],
  ])('past the limit in %s: refused, saying where', (_name, text, where) => {
    expect(() => parsePodsYaml(text, 'p.yaml')).toThrowError(IdentityError);
    expect(() => parsePodsYaml(text, 'p.yaml')).toThrowError(new RegExp(`^p\\.yaml:${where}: ${TOO_DEEP}$`));
  });

  it('far past the limit: refused the same way, before any parser recurses into it', () => {
    const text = `${POD}spec: ${nested(200_000)}\n`;
    expect(() => parsePodsYaml(text, 'p.yaml')).toThrowError(
      new RegExp(`^p\\.yaml:3:${7 + LIMIT}: ${TOO_DEEP}$`),
    );
  });

  it.each([
    ['a Pod document', `${POD}spec: ${nested(LIMIT - 5)}\n`],
    ['a List item with an anchor', list(`${ANCHORED_ITEM}  spec: ${nested(LIMIT - 5)}\n`)],
    ['a List item', list(`${ITEM}  spec: ${nested(LIMIT - 5)}\n`)],
  ])('within the limit in %s: read', (_name, text) => {
    expect(parsePodsYaml(text, 'p.yaml')).toHaveLength(1);
  });
});
