// How deep a YAML text nests, measured by the `yaml` package's own parser as it reads the text,
// before anything recurses over it. The `yaml` composer (and js-yaml) recurse once per level:
// thousands of levels overflow the stack, and near that overflow V8 can die compiling a regular
// expression ("RegExpCompiler Allocation failed - process out of memory"), which no catch
// survives. A block sequence nests a level every two characters (`- - - a`), so 2 KB of text
// was enough to kill a process that parsed it. Whoever loads YAML from outside asks this first.
//
// The parser builds its syntax tree with an explicit stack (one entry per open collection, plus
// the document and the scalar being read), and the composer recurses over that tree: bounding
// the stack as each token goes in bounds the recursion, whatever the text's layout (tabs,
// mis-indentation, `-` inside flow collections, scalars that read `---`, and the other shapes an
// earlier count of indicators and indentation got wrong). Checking after every token also keeps
// the parser's own recursion (it closes open levels recursively) within the bound.
import { Lexer, Parser } from 'yaml';

/** Parser stack entries that are not nesting levels: the document, and a scalar on top. */
const NOT_LEVELS = 2;

/**
 * The offset of the token at which the text is found nesting deeper than `limit` levels
 * (collections, block and flow, the root counted as the first), or null if it never does; never
 * throws. A document within the limit is never refused. The count is the real depth or one less
 * in every layout the `yaml` writer produces, and never less than half of it: a flow
 * collection's items take no stack entry of their own, and a `k: v` entry of a flow sequence is
 * a map of its own (`[a: [a: x]]` is four levels deep, counted two). Stops at the first token
 * past the limit: a text far past it costs no more than one just past it.
 */
export function yamlTooDeepAt(text: string, limit: number): number | null {
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    const at = parser.offset;
    try {
      // What it yields are finished documents' syntax trees: not needed here.
      for (const _ of parser.next(lexeme));
    } catch (error) {
      // Closing thousands of open levels at once recurses past the stack: only a limit far
      // larger than any caller's lets the text get that deep, and that is too deep as well.
      if (error instanceof RangeError) return at;
      throw error;
    }
    if (parser.stack.length > limit + NOT_LEVELS) return at;
  }
  return null;
}
