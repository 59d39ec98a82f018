// tryNormalizeIp's fast path for the common input: an IPv4 address already in canonical form
// (what Node reports for IPv4 peers, what callers send). The full parser's regex and array
// work cost about 0.5 us a lookup (bench/store.bench.ts) and 1.5 us of a decision (a CPU
// profile of the decision service); anything this does not accept still goes to the parser.

/** True when `s` is a dotted quad of 0-255 without leading zeros (so tryNormalizeIp(s) === s). */
export function isCanonicalIpv4(s: string): boolean {
  const length = s.length;
  if (length < 7 || length > 15) return false;
  let dots = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      // '.'
      if (digits === 0 || ++dots > 3) return false;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits > 0 && value === 0) return false; // a leading zero
    value = value * 10 + (c - 48);
    if (++digits > 3 || value > 255) return false;
  }
  return dots === 3 && digits > 0;
}
