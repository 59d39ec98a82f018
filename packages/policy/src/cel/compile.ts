// Compiling one CEL expression: bounded, parsed, type-checked, `matches` rewired to RE2.

import type { Environment } from '@marcbachmann/cel-js';
import { serialize } from '@marcbachmann/cel-js';
import type { ExpressionLimits } from '../types.js';
import type { Activation } from './activation.js';
import { DECLARED_VARIABLES } from './environment.js';
import { compileRegex, RegexError, re2Matches } from './regex.js';

export const DEFAULT_LIMITS: ExpressionLimits = {
  maxExpressionLength: 4096,
  maxAstDepth: 64,
  maxAstNodes: 2000,
  maxListElements: 256,
};

export interface CompiledExpression {
  source: string;
  /** Throws on a run-time error; the caller fails closed. */
  run(activation: Activation): unknown;
}

export type CompileResult =
  | { ok: true; expression: CompiledExpression }
  /** `offset` is within the expression text. */
  | { ok: false; message: string; offset: number };

/** What the library's AST nodes look like to us; its classes are not exported. */
interface Node {
  op: string;
  args: unknown;
  start?: number;
  pos?: number;
  meta?: { alternate?: Node; macro?: { args?: unknown } };
  handle?: unknown;
}

interface CelError extends Error {
  code?: string;
  summary?: string;
  range?: { start: number; end: number };
  node?: Node;
}

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && typeof (x as Node).op === 'string' && 'args' in x;
}

/** The AST nodes directly below `node`, including macro expansions. */
function children(node: Node): Node[] {
  const out: Node[] = [];
  const collect = (x: unknown, depth: number): void => {
    if (isNode(x)) out.push(x);
    else if (depth < 3 && Array.isArray(x)) for (const item of x) collect(item, depth + 1);
    else if (depth < 3 && typeof x === 'object' && x !== null)
      for (const v of Object.values(x)) collect(v, depth + 1);
  };
  collect(node.args, 0);
  const meta = node.meta;
  if (meta?.alternate) out.push(meta.alternate);
  if (meta?.macro?.args) collect(meta.macro.args, 0);
  return out;
}

function offsetOf(node: Node | undefined): number {
  return node?.start ?? node?.pos ?? 0;
}

/** Walks the tree without recursion (a long operator chain is a deep tree) and enforces limits. */
function measure(
  root: Node,
  limits: ExpressionLimits,
): { message: string; offset: number } | { matches: Node[] } {
  const stack: Array<[Node, number]> = [[root, 1]];
  const seen = new Set<Node>();
  const matches: Node[] = [];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (seen.size > limits.maxAstNodes) {
      return { message: `expression has more than ${limits.maxAstNodes} nodes`, offset: offsetOf(node) };
    }
    if (depth > limits.maxAstDepth) {
      return {
        message: `expression nests deeper than ${limits.maxAstDepth} levels (long operator chains count); split it into several expressions or rules`,
        offset: 0,
      };
    }
    if (node.op === 'list' && Array.isArray(node.args) && node.args.length > limits.maxListElements) {
      return {
        message: `list literal has more than ${limits.maxListElements} elements`,
        offset: offsetOf(node),
      };
    }
    if (node.op === 'rcall' && Array.isArray(node.args) && node.args[0] === 'matches') matches.push(node);
    for (const child of children(node)) stack.push([child, depth + 1]);
  }
  return { matches };
}

function describeCheckError(error: CelError): string {
  const node = error.node;
  if (
    error.code === 'no_such_key' &&
    node &&
    (node.op === '.' || node.op === '.?') &&
    Array.isArray(node.args)
  ) {
    const [receiver, field] = node.args as [Node, string];
    return `unknown field '${field}' on ${serialize(receiver as never)}`;
  }
  if (error.code === 'unknown_variable' && node?.op === 'id') {
    return `unknown variable '${String(node.args)}' (declared: ${DECLARED_VARIABLES.join(', ')})`;
  }
  return (error.summary ?? error.message).split('\n')[0]!;
}

/**
 * `want: 'bool'` for rule expressions (a `dyn` result is checked again at run time),
 * `'any'` for `${...}` interpolations.
 */
export function compileExpression(
  env: Environment,
  source: string,
  want: 'bool' | 'any',
  limits: ExpressionLimits,
): CompileResult {
  if (source.length > limits.maxExpressionLength) {
    return {
      ok: false,
      message: `expression is ${source.length} characters long; the limit is ${limits.maxExpressionLength}`,
      offset: 0,
    };
  }
  if (source.trim() === '') return { ok: false, message: 'expression is empty', offset: 0 };
  let program: ReturnType<Environment['parse']>;
  try {
    program = env.parse(source);
  } catch (error) {
    const e = error as CelError;
    if (e instanceof RangeError) return { ok: false, message: 'expression nests too deeply', offset: 0 };
    return {
      ok: false,
      message: `syntax error: ${(e.summary ?? e.message).split('\n')[0]}`,
      offset: e.range?.start ?? 0,
    };
  }
  const measured = measure(program.ast as unknown as Node, limits);
  if ('message' in measured) return { ok: false, ...measured };

  let checked: { valid: boolean; type?: string; error?: CelError };
  try {
    checked = program.check() as typeof checked;
  } catch (error) {
    // The checker recurses like the evaluator; a RangeError here means "too deep".
    return { ok: false, message: `expression could not be checked: ${(error as Error).message}`, offset: 0 };
  }
  if (!checked.valid) {
    const e = checked.error!;
    if (e instanceof RangeError) return { ok: false, message: 'expression nests too deeply', offset: 0 };
    return { ok: false, message: describeCheckError(e), offset: e.range?.start ?? offsetOf(e.node) };
  }
  if (want === 'bool' && checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `expression must be boolean, but it is ${checked.type}`, offset: 0 };
  }

  for (const node of measured.matches) {
    const pattern = (node.args as [string, Node, Node[]])[2][0];
    if (pattern?.op === 'value' && typeof pattern.args === 'string') {
      try {
        compileRegex(pattern.args);
      } catch (error) {
        if (error instanceof RegexError)
          return { ok: false, message: error.message, offset: offsetOf(pattern) };
        throw error;
      }
    }
    // The checked call dispatches through `handle(resolvedArgs, evaluator, node)`.
    node.handle = (args: unknown[]) => re2Matches(args[0], args[1]);
  }

  const run = program as unknown as (activation: Activation) => unknown;
  return { ok: true, expression: { source, run } };
}
