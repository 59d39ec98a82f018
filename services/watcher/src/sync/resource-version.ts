// resourceVersion is opaque to clients, but every real API server (etcd) hands out
// decimal revisions. Compare numerically when both are decimal; otherwise the later
// arrival is taken as newer, which is what the identity store does too.

const DECIMAL = /^\d+$/;

/**
 * Newer than every revision etcd can hand out (they are int64): bounds the reconcile of a
 * listing that nothing can follow (a pods file). Never a pod's version: a release at it
 * would leave a tombstone that refuses the pod for ever.
 */
export const AFTER_EVERY_REVISION = '9223372036854775808';

/** True when `a` is known to be older than `b`. */
export function isOlder(a: string, b: string): boolean {
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return false;
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

/** The newer of two versions (`b` when they cannot be ordered). */
export function newest(a: string, b: string): string {
  return isOlder(b, a) ? a : b;
}
