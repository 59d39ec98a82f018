// The nesting bound every outside YAML text is asked before a parser sees it
// (@podgate/yaml-depth), against the `yaml` package's own reading of the same text.
// Invariants: yamlTooDeepAt never throws; where the text parses without error, the count is at
// least half the depth the composer reads (flow sequences of `k: v` entries); and a text
// within the bound never runs the parser out of stack. (That the count is never more than the
// real depth is held by the property tests in packages/yaml-depth, on YAML laid out as the
// specification requires; the `yaml` package reads some of the fuzzer's mis-indented mutants
// without an error while dropping lines, which its parser had still nested.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yamlTooDeepAt } from '@podgate/yaml-depth';
import { isMap, isPair, isSeq, type Node, parseAllDocuments } from 'yaml';
import { FuzzFinding, type FuzzTarget } from '../harness.js';

/** The smallest limit the text stays within (the lexer stops at the first level past it). */
function counted(text: string): number {
  let low = 0;
  let high = 1;
  while (yamlTooDeepAt(text, high) !== null) high *= 2;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (yamlTooDeepAt(text, mid) === null) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Collection nesting of a parsed document, the root counted, walked without recursion. */
function realDepth(root: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      deepest = Math.max(deepest, depth + 1);
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          stack.push([item.key, depth + 1], [item.value, depth + 1]);
        } else {
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return deepest;
}

const examples = new URL('../../../examples/', import.meta.url);

export const yamlDepthTarget: FuzzTarget = {
  name: 'yaml-depth',
  // The parser's own branches guide it: the bound is the parser's stack.
  coverPaths: ['/packages/yaml-depth/', '/node_modules/yaml/dist/parse/'],
  maxLength: 4096,
  dictionary: ['- ', ': ', '? ', '[', ']', '{', '}', ', ', '\n', '\n  ', '\r\n', '\t', '|\n', '>-\n', '|2\n'],
  seeds: () => {
    const seed = join(examples.pathname, 'seed');
    return [
      ...readdirSync(seed)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .map((f) => readFileSync(join(seed, f))),
      readFileSync(join(examples.pathname, 'pods.yaml')),
      Buffer.from(`a:\n- b:\n  - c: [d, {e: f}]\n? - g\n: h\n--- ${'- '.repeat(40)}i\n`),
    ];
  },
  run(input) {
    const text = Buffer.from(input).toString('utf8');
    const count = counted(text);
    const docs = parseAllDocuments(text, { prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const doc of list) {
      if (doc.errors.some((e) => /Maximum call stack/.test(e.message))) {
        if (count <= 200)
          throw new FuzzFinding(`within the bound (${count}) yet the parser ran out of stack`);
      }
    }
    if (list.some((d) => d.errors.length > 0)) return;
    const real = Math.max(0, ...list.map((d) => realDepth(d.contents as Node | null)));
    if (count < Math.ceil(real / 2) - 1) {
      throw new FuzzFinding(`counted ${count} levels where the parser reads ${real}`);
    }
  },
};
