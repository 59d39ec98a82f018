// One round of Lease-based leader election, as client-go's leaderelection does it:
// take the Lease if nobody holds it or the holder has not renewed it for a whole lease
// duration (measured on OUR clock, from when we saw its record change, so clock skew
// between replicas does not matter), renew it while we hold it. The API's optimistic
// concurrency (resourceVersion) makes two replicas taking it at once impossible.
// Unlike client-go, every acquisition counts as a transition (leaseTransitions + 1), also
// when we take back a Lease that still names us after we stepped down: leaseTransitions
// is the store's fencing epoch (ADR 0003), so each term must have its own.
import type { Clock } from '@podgate/runtime';
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
  /** True from a successful acquisition until a lost round or stepDown(). */
  private holding = false;
  private heldTransitions = 0;
  /** The next acquisition sets leaseTransitions to at least this (see stepDown). */
  private minTransitions = 0;

  constructor(
    private readonly api: LeaseApi,
    private readonly clock: Clock,
    private readonly options: ElectorOptions,
  ) {}

  /**
   * The writer epoch of the term we hold (or held last): leaseTransitions + 1, so every
   * term's epoch is positive (the store's unfenced writers carry 0).
   */
  get epoch(): number {
    return this.heldTransitions + 1;
  }

  /**
   * Our term ended (the supervisor stopped the watcher): the next acquisition, even of a
   * Lease still naming us, is a new term. `storeEpoch`: the epoch the store is fenced at,
   * when it refused ours; the next term's epoch will be above it (a Lease deleted and
   * re-created restarts leaseTransitions at 0, below what the store already holds).
   */
  stepDown(storeEpoch = 0): void {
    this.holding = false;
    this.minTransitions = Math.max(this.minTransitions, storeEpoch);
  }

  /** True when we hold the lease after this round. Throws only on API failures. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const held = await this.round(signal);
    if (!held) this.holding = false;
    return held;
  }

  private async round(signal?: AbortSignal): Promise<boolean> {
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
              leaseTransitions: this.minTransitions,
            },
          },
          signal,
        );
        this.observe(created, now);
        this.hold(this.minTransitions);
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
    const renewing = holder === identity && this.holding;
    const previous = current.spec.leaseTransitions ?? 0;
    const transitions = renewing ? previous : Math.max(previous + 1, this.minTransitions);
    try {
      const updated = await this.api.replace(
        namespace,
        {
          metadata: { ...current.metadata, name },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: renewing ? (current.spec.acquireTime ?? microTime(now)) : microTime(now),
            renewTime: microTime(now),
            leaseTransitions: transitions,
          },
        },
        signal,
      );
      this.observe(updated, now);
      this.hold(transitions);
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

  private hold(transitions: number): void {
    this.holding = true;
    this.heldTransitions = transitions;
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
