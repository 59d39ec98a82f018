// `${cel}` inside strings (forward-internal url, log metadata, set-vars values).
import type { Environment } from '@marcbachmann/cel-js';
import type { Activation } from '../cel/activation.js';
import { type CompiledExpression, compileExpression } from '../cel/compile.js';
import type { ExpressionLimits } from '../types.js';

export interface Template {
  /** The text as written. */
  source: string;
  render(activation: Activation): string;
}

type Part = string | CompiledExpression;

/** Splits `a${x}b` into parts; undefined when there is nothing to interpolate. */
function split(
  text: string,
): Array<string | { source: string; offset: number }> | { error: string; offset: number } {
  const parts: Array<string | { source: string; offset: number }> = [];
  let i = 0;
  let literal = '';
  while (i < text.length) {
    if (text[i] === '$' && text[i + 1] === '{') {
      const start = i + 2;
      let depth = 1;
      let j = start;
      let quote: string | undefined;
      for (; j < text.length && depth > 0; j++) {
        const c = text[j];
        if (quote) {
          if (c === '\\') j++;
          else if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '{') depth++;
        else if (c === '}') depth--;
      }
      if (depth !== 0) return { error: "unterminated '${' in interpolated string", offset: i };
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ source: text.slice(start, j - 1), offset: start });
      i = j;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

export function hasInterpolation(text: string): boolean {
  return text.includes('${');
}

export function celToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v,
  );
}

export function compileTemplate(
  env: Environment,
  text: string,
  limits: ExpressionLimits,
): { ok: true; template: Template } | { ok: false; message: string; offset: number } {
  const pieces = split(text);
  if (!Array.isArray(pieces)) return { ok: false, message: pieces.error, offset: pieces.offset };
  const parts: Part[] = [];
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      parts.push(piece);
      continue;
    }
    const compiled = compileExpression(env, piece.source, 'any', limits);
    if (!compiled.ok)
      return {
        ok: false,
        message: `in \${${piece.source}}: ${compiled.message}`,
        offset: piece.offset + compiled.offset,
      };
    parts.push(compiled.expression);
  }
  const render = (activation: Activation): string => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : celToString(part.run(activation));
    return out;
  };
  return { ok: true, template: { source: text, render } };
}
