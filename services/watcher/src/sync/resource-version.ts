// resourceVersion is opaque to clients, but every real API server (etcd) hands out
// decimal revisions. The watcher orders them exactly as the identity store does
// (compareResourceVersions: decimal strings compared as unbounded integers, never as JS
// numbers); when either side is not decimal they cannot be ordered, and the later arrival
// is taken as newer, which is what the store does too.
import { compareResourceVersions } from '@podgate/identity';

/**
 * Newer than every revision etcd can hand out (they are int64): bounds the reconcile of a
 * listing that nothing can follow (a pods file). Never a pod's version: a release at it
 * would leave a tombstone that refuses the pod for ever.
 */
export const AFTER_EVERY_REVISION = '9223372036854775808';

/** True when `a` is known to be older than `b`. */
export function isOlder(a: string, b: string): boolean {
  return compareResourceVersions(a, b) === -1;
}

/**
 * True unless `incoming` is known to be older than or equal to `known`: the store's rule
 * for whether a write may replace what it holds (versions that cannot be ordered: newer).
 */
export function isNewer(incoming: string, known: string): boolean {
  const order = compareResourceVersions(incoming, known);
  return order !== -1 && order !== 0;
}

/** The newer of two versions (`b` when they cannot be ordered). */
export function newest(a: string, b: string): string {
  return isOlder(b, a) ? a : b;
}
