// Whether the identity store answers, for /readyz: a lookup every interval (of an address no
// pod owns, in the consulted clusters), reachable unless it comes back store_unavailable.
// Decisions do not wait for it: each makes its own lookup with its own deadline, and follows
// the endpoint's policy when the store is down.
import type { IdentityReader } from '@podgate/identity';

export interface StoreProbe {
  reachable(): boolean;
  /** '' while reachable; why not otherwise. */
  reason(): string;
  /** Probes now (the interval also does). */
  check(): Promise<void>;
  stop(): void;
}

const PROBE_IP = '0.0.0.0';

export function startStoreProbe(
  store: IdentityReader,
  clusters: readonly string[],
  intervalMs: number,
  onChange: (reachable: boolean, reason: string) => void,
): StoreProbe {
  let reachable = false;
  let reason = 'not checked yet';
  let checking: Promise<void> | null = null;
  const check = () => {
    checking ??= store.lookup(PROBE_IP, clusters).then((result) => {
      checking = null;
      const now = result.ok || result.reason !== 'store_unavailable';
      const why = now ? '' : result.message;
      if (now !== reachable) onChange(now, why);
      reachable = now;
      reason = why;
    });
    return checking;
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return {
    reachable: () => reachable,
    reason: () => reason,
    check,
    stop: () => clearInterval(timer),
  };
}
