// Reads pods from YAML as `kubectl get pods -A -o yaml` prints it (a `kind: List`), a
// `PodList`, or one or more `kind: Pod` documents. Errors name the file and line.
//
// The `yaml` package builds a node object per scalar: a whole 10 MB listing as one document
// costs about 1 GB of heap and tens of seconds. kubectl's layout (one document, `items:` at
// column 0, each item a `- ` line at one indentation) is therefore read one item at a time,
// so memory is bounded by one pod; any other layout is read whole and limited in size.
// Items are read with js-yaml (about 10x faster: it builds plain values, no nodes) unless
// they may hold an anchor or alias: js-yaml has no alias limit, the `yaml` package has.

import { yamlTooDeepAt } from '@podgate/yaml-depth';
import { CORE_SCHEMA, type LoadOptions, load as loadJsYaml, YAMLException } from 'js-yaml';
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseAllDocuments,
  parseDocument,
  visit,
  type YAMLMap,
} from 'yaml';
import { IdentityError } from './errors.js';
import { type PodLike, slimPod } from './pod-like.js';

const LIST_KINDS = new Set(['List', 'PodList']);
/** Files not in kubectl's layout are parsed whole; this bounds that parse's memory. */
export const MAX_GENERAL_PODS_FILE_CHARS = 2 * 1024 * 1024;
/** Per toJS call: an alias bomb is refused instead of expanded. */
const MAX_ALIAS_COUNT = 100;
/**
 * Deepest nesting read (a pod nests about 10 deep): js-yaml's maxDepth, and the bound on flow
 * nesting checked before the `yaml` package parses, whose composer recurses once per level.
 */
const MAX_DEPTH = 100;
const TOO_DEEP = `nesting is too deep (the limit is ${MAX_DEPTH} levels)`;

type Fail = (offset: number | undefined, message: string) => never;

export function parsePodsYaml(text: string, file: string): PodLike[] {
  const lines = new LineIndex(text);
  const fail: Fail = (offset, message) => {
    const { line, col } = lines.at(offset ?? 0);
    throw new IdentityError('invalid_pods_file', `${file}:${line}:${col}: ${message}`);
  };
  const layout = kubectlLayout(text);
  if (layout !== null) return parseByItem(text, layout, fail);
  if (text.length > MAX_GENERAL_PODS_FILE_CHARS) {
    fail(
      0,
      `file is ${text.length} characters and not in \`kubectl get pods -o yaml\` layout (one List document, \`items:\` at column 0, one \`- \` line per item); other layouts are limited to ${MAX_GENERAL_PODS_FILE_CHARS}`,
    );
  }
  return parseWhole(text, fail);
}

function parseWhole(text: string, fail: Fail): PodLike[] {
  refuseDeep(text, 0, fail);
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  if (!Array.isArray(docs)) return []; // an empty stream
  const pods: PodLike[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) fail(error.pos[0], yamlMessage(error.message));
    checkNodes(doc, 0, fail);
    const root = doc.contents;
    // An empty document, e.g. after a trailing `---`.
    if (root === null || (isScalar(root) && root.value === null)) continue;
    if (!isMap(root)) fail(root.range?.[0], 'expected a Pod, a PodList or a List of pods');
    const kind = doc.get('kind');
    if (kind === 'Pod') {
      pods.push(
        checkedPod(
          toJS(() => doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), root, 0, fail),
          root,
          0,
          fail,
        ),
      );
      continue;
    }
    checkListKind(kind, root, fail);
    const items = doc.get('items', true);
    if (items === undefined || items === null) continue; // an empty list prints `items: []` or nothing
    if (!isSeq(items)) fail((items as Node).range?.[0], 'items must be a list');
    // Through the document, so aliases resolve (and are counted) rather than leak as nodes.
    const values = toJS(() => doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), root, 0, fail) as {
      items: unknown[];
    };
    items.items.forEach((item, i) => {
      pods.push(checkedItem(item as Node, values.items[i], 0, fail));
    });
  }
  return pods;
}

interface Layout {
  /** Offset just after the `items:` line. */
  blockStart: number;
  blockEnd: number;
  /** Offsets where each item (`- ` at the items' indentation) starts. */
  itemStarts: number[];
}

/** kubectl's layout, or null for anything else (which the general reader handles). */
function kubectlLayout(text: string): Layout | null {
  // One document only: markers, directives and a second `items:` go the general way.
  if (/^(?:---|\.\.\.|%)/m.test(text)) return null;
  const header = /^items:[ \t]*(?:#.*)?\r?\n/gm;
  const match = header.exec(text);
  if (match === null || header.exec(text) !== null) return null;
  const blockStart = match.index + match[0].length;
  // The block runs to the first line at column 0 that is not a comment, blank or `-` item.
  const end = /^[^\s#-]/gm;
  end.lastIndex = blockStart;
  const blockEnd = end.exec(text)?.index ?? text.length;
  const block = text.slice(blockStart, blockEnd);
  const first = /^([ \t]*)- /m.exec(block) ?? /^([ \t]*)-\r?$/m.exec(block);
  if (first === null) return null;
  const indent = first[1]!;
  const itemStarts: number[] = [];
  const item = new RegExp(`^${indent}-(?: |\\r?$)`, 'gm');
  for (let m = item.exec(block); m !== null; m = item.exec(block)) itemStarts.push(blockStart + m.index);
  return { blockStart, blockEnd, itemStarts };
}

function parseByItem(text: string, layout: Layout, fail: Fail): PodLike[] {
  // The envelope without the items; offsets past them are shifted back for messages.
  const cut = layout.blockEnd - layout.blockStart;
  const envelope = text.slice(0, layout.blockStart) + text.slice(layout.blockEnd);
  const failEnvelope: Fail = (offset, message) =>
    fail(offset !== undefined && offset >= layout.blockStart ? offset + cut : offset, message);
  refuseDeep(envelope, 0, failEnvelope);
  const doc = parseDocument(envelope, { uniqueKeys: false });
  const error = doc.errors[0];
  if (error !== undefined) failEnvelope(error.pos[0], yamlMessage(error.message));
  checkNodes(doc, 0, failEnvelope);
  const root = doc.contents;
  if (!isMap(root)) failEnvelope(root?.range?.[0], 'expected a Pod, a PodList or a List of pods');
  checkListKind(doc.get('kind'), root as Node, failEnvelope);

  const pods: PodLike[] = [];
  const { itemStarts, blockEnd } = layout;
  for (let i = 0; i < itemStarts.length; i++) {
    const from = itemStarts[i]!;
    const chunk = text.slice(from, itemStarts[i + 1] ?? blockEnd);
    pods.push(
      MAY_HOLD_ALIAS.test(chunk) ? readItemWithNodes(chunk, from, fail) : readItem(chunk, from, fail),
    );
  }
  return pods;
}

/**
 * Where an anchor (`&`) or alias (`*`) could start: at a line start, or after a space or a flow
 * indicator. `&` and `*` elsewhere (`?a=1&b=2`, `x*y`) are plain text, and such items stay fast.
 */
const MAY_HOLD_ALIAS = /(?:^|[\s[\]{},:])[&*]/m;

/** YAML 1.2 core types only (no merge keys, no timestamps), as the `yaml` package reads them. */
const JS_YAML_OPTIONS: LoadOptions & { maxDepth: number } = {
  schema: CORE_SCHEMA,
  // js-yaml 4.3 refuses deeper input instead of overflowing the stack.
  maxDepth: MAX_DEPTH,
};

/** One item with js-yaml: plain values, no custom types, duplicate keys refused. */
function readItem(chunk: string, from: number, fail: Fail): PodLike {
  let value: unknown;
  try {
    value = loadJsYaml(chunk, JS_YAML_OPTIONS);
  } catch (error) {
    if (error instanceof YAMLException) fail(from + (error.mark?.position ?? 0), jsYamlMessage(error.reason));
    if (error instanceof RangeError) fail(from, TOO_DEEP);
    throw error;
  }
  // The item's value starts after its `- ` (or on the next line after a lone `-`).
  const nodeAt = from + (/^[ \t]*-\s*/.exec(chunk)?.[0].length ?? 0);
  if (!Array.isArray(value) || value.length !== 1) fail(nodeAt, 'each item must be a Pod object');
  const item: unknown = (value as unknown[])[0];
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    fail(nodeAt, 'each item must be a Pod object');
  }
  const kind = (item as { kind?: unknown }).kind;
  if (kind !== undefined && kind !== 'Pod') {
    fail(nodeAt, `expected a Pod item, found kind ${JSON.stringify(kind)}`);
  }
  // js-yaml's strings are slices of its own copy of the item: cloning the slim pod keeps
  // every pod read from pinning its whole item text (45 MB more heap for a 44 MB file).
  return checkedPodAt(structuredClone(slimPod(item)), nodeAt, fail);
}

/** One item with the `yaml` package, whose alias expansion is limited. */
function readItemWithNodes(chunk: string, from: number, fail: Fail): PodLike {
  refuseDeep(chunk, from, fail);
  const itemDoc = parseDocument(chunk, { uniqueKeys: false });
  const itemError = itemDoc.errors[0];
  if (itemError !== undefined) fail(from + itemError.pos[0], yamlMessage(itemError.message));
  checkNodes(itemDoc, from, fail);
  const seq = itemDoc.contents;
  if (!isSeq(seq) || seq.items.length !== 1) fail(from, 'each item must be a Pod object');
  const node = (seq as { items: unknown[] }).items[0] as Node;
  const values = toJS(() => itemDoc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), node, from, fail) as unknown[];
  return checkedItem(node, values[0], from, fail);
}

/**
 * Duplicate keys are refused, as js-yaml refuses them: which one wins is a guess another
 * reader may make differently. The `yaml` package's own check is quadratic in a map's size.
 * More than MAX_ALIAS_COUNT aliases are refused before toJS: where an anchor's value holds no
 * alias (an empty list, say), the package counts its expansion as 0 and walks the whole
 * document again at every use, so 8,000 uses in 40 KB took 7.9 s (quadratic in the file).
 */
function checkNodes(doc: Document, base: number, fail: Fail): void {
  let aliases = 0;
  visit(doc, {
    Alias(_, alias) {
      if (++aliases > MAX_ALIAS_COUNT) {
        fail(base + (alias.range?.[0] ?? 0), `too many YAML aliases (more than ${MAX_ALIAS_COUNT})`);
      }
    },
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        const id = isScalar(key) ? String(key.value) : key;
        if (seen.has(id)) fail(base + ((key as Node | null)?.range?.[0] ?? 0), 'duplicated mapping key');
        seen.add(id);
      }
    },
  });
}

/** Nesting (block or flow) past MAX_DEPTH, refused before the `yaml` package recurses into it. */
function refuseDeep(text: string, base: number, fail: Fail): void {
  // Nothing counts levels after this bound: a pods file nests at most MAX_DEPTH levels as the
  // parser holds them (its values at most twice that: flow sequences of `k: v` entries), and
  // the composer's recursion follows the parser's.
  const at = yamlTooDeepAt(text, MAX_DEPTH);
  if (at !== null) fail(base + at, TOO_DEEP);
}

function checkListKind(kind: unknown, root: Node, fail: Fail): void {
  if (typeof kind !== 'string' || !LIST_KINDS.has(kind)) {
    fail(root.range?.[0], `expected kind Pod, PodList or List, found ${JSON.stringify(kind ?? null)}`);
  }
}

function checkedItem(node: Node, value: unknown, base: number, fail: Fail): PodLike {
  if (!isMap(node)) fail(base + (node?.range?.[0] ?? 0), 'each item must be a Pod object');
  const kind = (node as YAMLMap).get('kind');
  if (kind !== undefined && kind !== 'Pod') {
    fail(base + (node.range?.[0] ?? 0), `expected a Pod item, found kind ${JSON.stringify(kind)}`);
  }
  return checkedPod(value, node, base, fail);
}

function checkedPod(value: unknown, node: Node, base: number, fail: Fail): PodLike {
  return checkedPodAt(value, base + (node.range?.[0] ?? 0), fail);
}

function checkedPodAt(value: unknown, offset: number, fail: Fail): PodLike {
  const pod = slimPod(value);
  const meta = pod.metadata ?? {};
  const missing = (['uid', 'name', 'namespace'] as const).filter((f) => !meta[f]);
  if (missing.length > 0) fail(offset, `pod has no metadata.${missing.join(', metadata.')}`);
  return pod;
}

/** The yaml package throws a bare ReferenceError for an alias bomb; give it a place. */
function toJS(convert: () => unknown, node: Node, base: number, fail: Fail): unknown {
  try {
    return convert();
  } catch (error) {
    if (error instanceof RangeError) fail(base + (node.range?.[0] ?? 0), TOO_DEEP);
    if (error instanceof ReferenceError) {
      const excessive = /Excessive alias count/.test(error.message);
      fail(
        base + (node.range?.[0] ?? 0),
        excessive
          ? `too many YAML aliases (more than ${MAX_ALIAS_COUNT} expansions)`
          : `YAML: ${error.message} (in kubectl's layout each item is read on its own: an alias cannot refer to another item)`,
      );
    }
    throw error;
  }
}

function jsYamlMessage(reason: string): string {
  if (/^nesting exceeded maxDepth/.test(reason)) return TOO_DEEP;
  const alias = /^unidentified alias "(.*)"$/.exec(reason);
  if (alias !== null) {
    return `YAML: Unresolved alias ${JSON.stringify(alias[1])} (in kubectl's layout each item is read on its own: an alias cannot refer to another item)`;
  }
  return reason;
}

function yamlMessage(message: string): string {
  if (/Maximum call stack/.test(message)) return TOO_DEEP;
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/** 1-based line and column of an offset (the parser's LineCounter only sees one chunk). */
class LineIndex {
  private starts: number[] | null = null;
  constructor(private readonly text: string) {}

  at(offset: number): { line: number; col: number } {
    if (this.starts === null) {
      this.starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1))
        this.starts.push(i + 1);
    }
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }
}
