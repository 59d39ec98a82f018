// One round of Lease-based leader election, as client-go's leaderelection does it:
// take the Lease if nobody holds it or the holder has not renewed it for a whole lease
// duration (measured on OUR clock, from when we saw its record change, so clock skew
// between replicas does not matter), renew it while we hold it. The API's optimistic
// concurrency (resourceVersion) makes two replicas taking it at once impossible.
import type { Clock } from '../clock.js';
import { type Lease, type LeaseApi, LeaseConflict } from './lease-api.js';

export interface ElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
}

export class LeaseElector {
  /** The lease record we last saw, and when (our clock) it last changed. */
  private observed: { resourceVersion: string; at: number } | null = null;

  constructor(
    private readonly api: LeaseApi,
    private readonly clock: Clock,
    private readonly options: ElectorOptions,
  ) {}

  /** True when we hold the lease after this round. Throws only on API failures. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = this.clock.now();
    const current = await this.api.get(namespace, name, signal);
    const durationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    if (current === null) {
      try {
        const created = await this.api.create(
          namespace,
          {
            metadata: { name },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          signal,
        );
        this.observe(created, now);
        return true;
      } catch (error) {
        if (error instanceof LeaseConflict) return false;
        throw error;
      }
    }
    this.observe(current, now);
    const holder = current.spec.holderIdentity ?? '';
    const heldBySomeoneElse = holder !== '' && holder !== identity;
    const theirDurationMs = (current.spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldBySomeoneElse && this.observed!.at + theirDurationMs > now) return false;
    const transitions = current.spec.leaseTransitions ?? 0;
    try {
      const updated = await this.api.replace(
        namespace,
        {
          metadata: { ...current.metadata, name },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: holder === identity ? (current.spec.acquireTime ?? microTime(now)) : microTime(now),
            renewTime: microTime(now),
            leaseTransitions: holder === identity ? transitions : transitions + 1,
          },
        },
        signal,
      );
      this.observe(updated, now);
      return true;
    } catch (error) {
      if (error instanceof LeaseConflict) return false;
      throw error;
    }
  }

  /** Gives the lease up (on shutdown) so a standby need not wait out the duration. */
  async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const current = await this.api.get(namespace, name);
    if (current?.spec.holderIdentity !== identity) return;
    await this.api
      .replace(namespace, {
        metadata: current.metadata,
        spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1 },
      })
      .catch((error) => {
        if (!(error instanceof LeaseConflict)) throw error;
      });
  }

  private observe(lease: Lease, now: number): void {
    const version = lease.metadata.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== version) this.observed = { resourceVersion: version, at: now };
  }
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
