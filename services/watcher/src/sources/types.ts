// One interface for every pod source (Kubernetes API, pods file): the sync loop does not
// care where pods come from. Sources hand over slim PodRecords, never whole pods.
import type { PodRecord } from '@podgate/identity';

/**
 * A record as a source hands it over. `uncutKey`: the pod's namespace/name as the origin
 * spelled it (`podKey` of the uncut values), present only when the record's name or
 * namespace had to be cut to the store's limits, so that the view never takes an
 * over-long name for the pod whose name is its cut prefix.
 */
export type SourcedRecord = PodRecord & { uncutKey?: string };

export interface PodSink {
  /**
   * A complete listing: the initial one and one after every relist or file re-read.
   * `resourceVersion`: the listing's version, when the origin has one.
   */
  listing(records: SourcedRecord[], resourceVersion?: string): void;
  /** A pod was added or changed (possibly recreated under the same name with a new UID). */
  upsert(record: SourcedRecord): void;
  /** A pod was deleted; `record` is its last known state, which may be stale. */
  remove(record: SourcedRecord): void;
}

export interface SourceHealth {
  /** When the source last heard from its origin successfully (ms), or null if never. */
  lastContactAt: number | null;
  /** Since when every attempt to reach the origin has failed (ms), or null while fine. */
  failingSince: number | null;
  lastError: string | null;
}

export interface PodSource {
  readonly kind: 'kubernetes' | 'file';
  /** Starts listing/watching; returns at once. Errors are retried inside, never thrown. */
  start(sink: PodSink): void;
  stop(): Promise<void>;
  health(): SourceHealth;
}

/** Turns one pod object (as the API or the file holds it) into a record; throws if unusable. */
export type DerivePodRecord = (pod: unknown) => SourcedRecord;
