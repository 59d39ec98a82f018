// One way to parse a configuration object with its zod schema, once, at start: every
// problem is listed, one per line, in the words of the schema's messages (which name the
// flag or variable to fix).
import type { z } from 'zod';

export type ParsedConfig<T> = { ok: true; config: T } | { ok: false; message: string };

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): ParsedConfig<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, message: result.error.issues.map((issue) => issue.message).join('\n') };
}

/** Drops keys whose value is undefined or '' (absent means "use the default"). */
export function presentOnly<T extends Record<string, unknown>>(input: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) if (value !== undefined && value !== '') out[key] = value;
  return out as Partial<T>;
}
