// Nesting in a pods file, flow and block, is bounded before any parser that recurses per level
// sees it: the `yaml` package's composer would otherwise recurse until the stack overflows (and near that, V8
// can die outright). Every reader (the whole file, the List envelope, an item with an anchor,
// read by `yaml`, and an item read by js-yaml) refuses it in the same words.
import { fileURLToPath } from 'node:url';
import { runInFreshNode } from '@podgate/test-support';
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
    ['a List item with an anchor', list(`${ANCHORED_ITEM}  spec: ${nested(LIMIT + 1)}\n`), `5:${8 + LIMIT}`],
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

describe('parsePodsYaml: block nesting depth', () => {
  it('in a fresh process: refused, and the process lives', () => {
    // `- ` opens a block level every two characters: left to the parser, 2 KB of it could kill
    // a fresh Node.js (V8's fatal "RegExpCompiler Allocation failed" near the stack overflow).
    const module = fileURLToPath(new URL('./pods-yaml.ts', import.meta.url));
    const code = `
      const { parsePodsYaml } = await import(${JSON.stringify(module)});
      const texts = [
        '- '.repeat(1000) + 'a\\n',
        'kind: Pod\\nmetadata: {name: a, namespace: b, uid: c}\\nspec:\\n' + Array.from({ length: 1500 }, (_, i) => ' '.repeat(i + 1) + (i % 2 ? '- ' : 'k: ')).join('\\n') + 'v\\n',
        'apiVersion: v1\\nkind: List\\nitems:\\n- ' + '- '.repeat(200000) + 'a\\n',
      ];
      for (const text of texts) {
        try { parsePodsYaml(text, 'p.yaml'); console.log('read'); } catch (e) { console.log(e.message); }
      }`;
    const run = runInFreshNode(code);
    expect(run.stderr).not.toMatch(/FATAL|out of memory/);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(new RegExp(`^p\\.yaml:\\d+:\\d+: ${TOO_DEEP}$`));
    // Where the bound stops it (the scalar read LIMIT + 1 levels deep, the root counted), not
    // wherever a parser's stack happened to run out.
    expect(lines[0]).toMatch(new RegExp(`^p\\.yaml:1:${2 * (LIMIT + 1) + 1}: `));
  });
});
