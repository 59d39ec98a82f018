// How deep a YAML text nests its collections, block and flow, read with the `yaml` package's
// lexer, which tells indicators from the same characters in scalars and comments and does not
// recurse. The `yaml` composer (and js-yaml) recurse once per level: thousands of levels
// overflow the stack, and near that overflow V8 can die compiling a regular expression
// ("RegExpCompiler Allocation failed - process out of memory"), which no catch survives. A
// block sequence nests a level every two characters (`- - - a`), so 2 KB of text was enough
// to kill a process that parsed it. Whoever loads YAML from outside asks this first.
//
// Block depth from indentation, as YAML defines it: a block collection is opened by an
// indicator (`-`, `?`, or the `:` after an implicit key) at a column; a later indicator at a
// lower column closes every collection opened further right; one at the same column is a
// sibling. For YAML laid out as the specification requires, the count never exceeds the real
// depth (a refusal never comes early) and is at least half of it: the one undercount is a block
// sequence written at its parent key's own column (`key:` then `- item` under it), which YAML
// allows and which this counts as a sibling. (Mis-indented text that the `yaml` package reads
// without an error, dropping what it cannot place, may count deeper than what it keeps.)
import { CST, Lexer } from 'yaml';

/** Zero-width markers the lexer adds (they are not characters of the source). */
const MARKERS = new Set(['doc-mode', 'flow-error-end', 'scalar']);
/** Tokens that do not start a node: where a line's next node begins is found past them. */
const NOT_CONTENT = new Set([
  'space',
  'comment',
  'newline',
  'byte-order-mark',
  'doc-start',
  'doc-end',
  'seq-item-ind',
  'explicit-key-ind',
  'map-value-ind',
]);

/**
 * The offset of the first indicator or bracket that opens nesting level `limit + 1` (block and
 * flow levels together), or null if none does. Stops there: a text far past the limit costs
 * no more than one just past it.
 */
export function yamlTooDeepAt(text: string, limit: number): number | null {
  let offset = 0;
  let column = 0;
  let flow = 0;
  /** Columns of the open block collections, innermost last. */
  const block: number[] = [];
  /** Column where the current node began on this line (after any `- ` or `? `), if it has. */
  let nodeColumn: number | null = null;
  /** An indicator at `at` opens a block collection there, unless one is open there already. */
  const open = (at: number): boolean => {
    while (block.length > 0 && block[block.length - 1]! > at) block.pop();
    if (block.length > 0 && block[block.length - 1] === at) return false;
    block.push(at);
    return block.length + flow > limit;
  };
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'doc-start' || type === 'doc-end') {
      block.length = 0;
      flow = 0;
    } else if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (block.length + ++flow > limit) return offset;
    } else if (type === 'flow-seq-end' || type === 'flow-map-end') {
      if (flow > 0) flow--;
    } else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind')) {
      if (open(column)) return offset;
      nodeColumn = null; // what follows on this line is a node of its own
    } else if (flow === 0 && type === 'map-value-ind') {
      // An implicit key's mapping sits at the key's column; `:` first on its line, at its own.
      if (open(nodeColumn ?? column)) return offset;
      nodeColumn = null;
    }
    if (type !== null && MARKERS.has(type)) continue;
    if (nodeColumn === null && (type === null || !NOT_CONTENT.has(type))) nodeColumn = column;
    offset += token.length;
    const newline = token.lastIndexOf('\n');
    if (newline >= 0) {
      column = token.length - newline - 1;
      nodeColumn = null;
    } else {
      column += token.length;
    }
  }
  return null;
}
