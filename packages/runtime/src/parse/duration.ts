// Durations as operators write them: `500ms`, `5s`, `1.5s`, `2m`, `1h`, or a bare number of
// milliseconds. No spaces, no negative values.
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/** A zod field: the duration text of `flag`, at least `minMs`, as milliseconds. */
export function durationSchema(flag: string, minMs: number) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms < minMs) {
      ctx.addIssue({
        code: 'custom',
        message: `${flag}: expected a duration of at least ${minMs} ms (e.g. 5s)`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/**
 * `--lookup-timeout`: the deadline of one identity lookup, for every command that reads the
 * store (proxy, decision, eval), so that they parse it alike and default to the same 200ms
 * (the identity store's own default).
 */
export function lookupTimeoutSchema() {
  return durationSchema('--lookup-timeout', 1).prefault('200ms');
}
