// Building refusals. Messages quote attacker bytes only in escaped, truncated form, so a
// log line built from one cannot be forged or made huge.
import type { ParseRefusalCode } from './errors.js';
import type { ParseRefusal } from './types.js';

export function refuse(code: ParseRefusalCode, message: string): ParseRefusal {
  return { status: 'refused', code, message };
}

/** A token for a message: JSON-quoted, at most 48 characters of it. */
export function quote(text: string): string {
  return text.length > 48 ? `${JSON.stringify(text.slice(0, 48))}...` : JSON.stringify(text);
}
