// Exponential backoff with full jitter: after n consecutive failures, wait a random time
// in [base/2, min(cap, base * 2^n)]. Jitter keeps many watchers that lost the same API
// server from reconnecting in lock-step; the floor keeps a tight loop impossible.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/** Delay before retry number `failures` (1 = first retry). `random` returns [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  const floor = Math.min(policy.baseMs / 2, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}
