// YAML to plain values, keeping where every value came from. The `yaml` package's own toJS()
// loses positions and turns an unquoted `- !(expr)` into garbage, so we walk its nodes ourselves.

import { yamlTooDeepAt } from '@podgate/yaml-depth';
import { isAlias, isMap, isScalar, isSeq, type Node, parseAllDocuments, Scalar } from 'yaml';
import type { DiagnosticSink } from '../diagnostics.js';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface Span {
  /** Offset of the value (for a recovered tag: of the `!`). */
  start: number;
  /** Offset of the mapping key that holds the value, when there is one. */
  keyStart?: number;
  /** Offset where a string value's characters start in the source, when they map one to one. */
  textOffset?: number;
}

export interface SourceDoc {
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  start: number;
  spans: Map<string, Span>;
}

const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

export function pathKey(path: Path): string {
  return path.join('\u0000');
}

/** The span of `path`, or of its nearest ancestor that has one. */
export function spanOf(doc: SourceDoc, path: Path): Span {
  for (let n = path.length; n >= 0; n--) {
    const span = doc.spans.get(pathKey(path.slice(0, n)));
    if (span) return span;
  }
  return { start: doc.start };
}

export interface YamlLimits {
  maxFileCharacters: number;
  maxDepth: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxFileCharacters: 4 * 1024 * 1024, maxDepth: 64 };

/** Parses every document of one file; problems go to `sink`. Empty documents are skipped. */
export function parseYamlFile(
  text: string,
  sink: DiagnosticSink,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): SourceDoc[] {
  if (text.length > limits.maxFileCharacters) {
    sink.error(
      0,
      `file is ${text.length} characters long; the limit is ${limits.maxFileCharacters} (a policy file this large is almost certainly not one)`,
    );
    return [];
  }
  // Deeper nesting (block or flow) than the walker below accepts: refused before the parser
  // recurses into it (@podgate/yaml-depth: the parser's own stack overflow can kill the process).
  // The walker counts levels below the document's root; yamlTooDeepAt counts the root too.
  const tooDeep = yamlTooDeepAt(text, limits.maxDepth + 1);
  if (tooDeep !== null) {
    sink.error(tooDeep, `YAML: nesting is too deep (the limit is ${limits.maxDepth} levels)`);
    return [];
  }
  // Duplicate keys are found by the walker, with a set per map: the parser's own check
  // (uniqueKeys) compares each key with every earlier one, and a 400 KB file of distinct keys
  // took 24 s (a 1 MiB POST /v1/validate body, minutes of the decision service's event loop).
  const list = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
  const out: SourceDoc[] = [];
  list.forEach((doc, index) => {
    let broken = false;
    for (const e of doc.errors) {
      // The parser recurses per level and reports its own stack overflow once per open level:
      // say it once, in words.
      if (/Maximum call stack/.test(e.message)) {
        if (!broken)
          sink.error(e.pos[0], `YAML: nesting is too deep (the limit is ${limits.maxDepth} levels)`);
        broken = true;
        continue;
      }
      broken = true;
      sink.error(e.pos[0], `YAML: ${firstLine(e.message)}${quoteHint(text, e.pos[0])}`);
    }
    for (const w of doc.warnings) {
      // Unresolved tags are judged below, where we know whether the place holds an expression.
      if (w.code !== 'TAG_RESOLVE_FAILED') sink.warning(w.pos[0], `YAML: ${firstLine(w.message)}`);
    }
    if (broken || doc.contents === null) return;
    const walker = new Walker(text, sink, limits.maxDepth);
    const value = walker.convert(doc.contents as Node, []);
    // A repeated key makes the document unreadable, as the parser's own check would have.
    if (walker.duplicateKey) return;
    out.push({ index, value, start: doc.contents.range?.[0] ?? 0, spans: walker.spans });
  });
  return out;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function quoteHint(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  return /^\s*-\s+!/.test(line) ? ' (an expression starting with `!` must be quoted)' : '';
}

function isExpressionPlace(path: Path): boolean {
  return (
    path.length >= 2 && path[path.length - 2] === 'expressions' && typeof path[path.length - 1] === 'number'
  );
}

class Walker {
  readonly spans = new Map<string, Span>();

  #tooDeep = false;
  /** A map of this document repeats a key (the error is said where the key repeats). */
  duplicateKey = false;

  constructor(
    private readonly text: string,
    private readonly sink: DiagnosticSink,
    private readonly maxDepth: number,
  ) {}

  convert(node: Node, path: PathSegment[], keyStart?: number): unknown {
    const start = node.range?.[0] ?? 0;
    const span: Span = keyStart === undefined ? { start } : { start, keyStart };
    this.spans.set(pathKey(path), span);

    if (path.length > this.maxDepth) {
      // Once per document: every deeper branch would say the same.
      if (!this.#tooDeep)
        this.sink.error(start, `YAML: nesting is too deep (the limit is ${this.maxDepth} levels)`);
      this.#tooDeep = true;
      return undefined;
    }

    if (isAlias(node)) {
      this.sink.error(start, 'YAML aliases (*name) are not supported in policy files; write the value out');
      return undefined;
    }
    const tag = node.tag;
    if (tag && !CORE_TAGS.has(tag)) return this.#unknownTag(node, tag, path, span);

    if (isScalar(node)) {
      let value = node.value;
      // `- true` in an expression list is the CEL literal, not a YAML boolean.
      if (typeof value !== 'string' && node.type === Scalar.PLAIN && isExpressionPlace(path) && node.range) {
        value = this.text.slice(node.range[0], node.range[1]);
      }
      if (typeof value === 'string') {
        const offset = this.#textOffset(node, value);
        if (offset !== undefined) span.textOffset = offset;
      }
      return value;
    }
    if (isSeq(node)) return node.items.map((item, i) => this.convert(item as Node, [...path, i]));
    if (isMap(node)) {
      // No prototype: keys such as `__proto__` in a user's map stay plain data.
      const out: Record<string, unknown> = Object.create(null);
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number')) {
          this.sink.error(key?.range?.[0] ?? start, 'mapping keys must be plain strings');
          continue;
        }
        const name = String(key.value);
        const keyOffset = key.range?.[0] ?? start;
        // `1` and "1" are one key here (they would be one property of the value).
        if (seen.has(name)) {
          this.sink.error(keyOffset, 'YAML: Map keys must be unique');
          this.duplicateKey = true;
          continue;
        }
        seen.add(name);
        if (pair.value === null) {
          this.spans.set(pathKey([...path, name]), { start: keyOffset, keyStart: keyOffset });
          out[name] = null;
          continue;
        }
        out[name] = this.convert(pair.value as Node, [...path, name], keyOffset);
      }
      return out;
    }
    return undefined;
  }

  /**
   * `- !(a in b)` reaches us as tag `!(a` on scalar `in b)`. In an expression list the tag is
   * the user's `!` operator: take the exact source text from the tag to the end of the node.
   */
  #unknownTag(node: Node, tag: string, path: Path, span: Span): unknown {
    const end = node.range?.[1] ?? span.start;
    const tagStart = this.text.lastIndexOf(tag, span.start);
    const recoverable =
      isExpressionPlace(path) &&
      tag.startsWith('!') &&
      tagStart >= 0 &&
      (isScalar(node) || node.range !== undefined);
    if (!recoverable) {
      this.sink.error(tagStart >= 0 ? tagStart : span.start, `unknown YAML tag '${tag}'`);
      return undefined;
    }
    const expression = this.text.slice(tagStart, end).trimEnd();
    span.start = tagStart;
    span.textOffset = tagStart;
    const quoted = expression.includes("'") ? JSON.stringify(expression) : `'${expression}'`;
    this.sink.warning(
      tagStart,
      `expression starts with '!', which YAML reads as a tag; recovered it as ${JSON.stringify(expression)}. Quote it: - ${quoted}`,
    );
    return expression;
  }

  #textOffset(node: Scalar, value: string): number | undefined {
    const [from, to] = node.range ?? [0, 0];
    const raw = this.text.slice(from, to);
    if (raw === value) return from;
    if (
      (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) &&
      raw.slice(1, -1) === value
    ) {
      return from + 1;
    }
    return undefined;
  }
}
