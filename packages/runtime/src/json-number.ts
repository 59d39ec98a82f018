// Numbers in the hand-written JSON of the per-connection and per-decision log lines. A float's
// shortest decimal form is slow to make (String(1.234): about 0.7 us, measured in a decision
// service profile), an integer's is not; a duration rounded to the microsecond is written from
// integers, to the same text JSON.stringify would write.

/** Durations at or above this many microseconds take the general path (2^53 / 1000: exact). */
const MAX_MICROS = 9_007_199_254_740;

/** A number as JSON.stringify writes it (null when not finite). */
export function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `ms` rounded to the microsecond, as JSON: `jsonNumber(Math.round(ms * 1000) / 1000)`. */
export function jsonMilliseconds(ms: number): string {
  const micros = Math.round(ms * 1000);
  // Negative, not finite, or too large for the integer path: the general one.
  if (!(micros >= 0 && micros < MAX_MICROS)) return jsonNumber(micros / 1000);
  const whole = Math.floor(micros / 1000);
  const frac = micros - whole * 1000;
  if (frac === 0) return String(whole);
  // The fraction's digits without trailing zeros: .5, .25, .125, .05, .005.
  if (frac % 100 === 0) return `${whole}.${frac / 100}`;
  if (frac % 10 === 0) return `${whole}.${frac < 100 ? '0' : ''}${frac / 10}`;
  return `${whole}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}
