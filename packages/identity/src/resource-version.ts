// resourceVersion ordering. Kubernetes calls it opaque; in practice it is an etcd revision
// (a decimal integer). The Lua scripts in redis-scripts.ts implement the same rule.

const DECIMAL = /^\d+$/;

/**
 * Compares two resourceVersions: -1, 0 or 1 when both are decimal integers (compared as
 * unbounded integers), null when either is not (callers then treat the incoming one as newer).
 */
export function compareResourceVersions(a: string, b: string): -1 | 0 | 1 | null {
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return null;
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  if (x === y) return 0;
  return x < y ? -1 : 1;
}

/** The greatest decimal resourceVersion among `versions`, or '' when none is decimal. */
export function maxResourceVersion(versions: Iterable<string>): string {
  let max = '';
  for (const v of versions) {
    if (!DECIMAL.test(v)) continue;
    if (max === '' || compareResourceVersions(v, max) === 1) max = v;
  }
  return max;
}
