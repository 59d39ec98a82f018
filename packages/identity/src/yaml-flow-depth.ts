// How deep a YAML text nests flow collections (`[`, `{`), read with the `yaml` package's
// lexer: it tells brackets in quoted scalars and comments from real ones, and it does not
// recurse. The composer does recurse, one level per flow collection: thousands of levels
// overflow its stack, and near that overflow V8 can die compiling a regular expression
// ("RegExpCompiler Allocation failed - process out of memory"), which no catch survives.
// The same check as the policy loader's (packages/policy/src/load/yaml-flow-depth.ts); a copy
// because identity and policy do not depend on each other.
import { CST, Lexer } from 'yaml';

/** Zero-width markers the lexer adds (they are not characters of the source). */
const MARKERS = new Set(['doc-mode', 'flow-error-end', 'scalar']);

/** The offset of the first `[` or `{` that opens level `limit + 1`, or null if none does. */
export function flowTooDeepAt(text: string, limit: number): number | null {
  let offset = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (++depth > limit) return offset;
    } else if ((type === 'flow-seq-end' || type === 'flow-map-end') && depth > 0) {
      depth--;
    }
    if (type === null || !MARKERS.has(type)) offset += token.length;
  }
  return null;
}
