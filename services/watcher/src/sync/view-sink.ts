// The sync loop's input side: what a pod source reports (complete listings, upserts,
// removals) goes into the in-memory view, and the store operations the view derives go
// to the store writer, stamped with when they arrived.
import type { PodRecord } from '@podgate/identity';
import type { Clock, Logger } from '@podgate/runtime';
import type { WatcherMetrics } from '../metrics.js';
import type { PodSink, PodSource } from '../sources/types.js';
import type { PodView } from './pod-view.js';
import { AFTER_EVERY_REVISION, newest } from './resource-version.js';
import type { StoreWriter } from './store-writer.js';

export interface ViewSinkDeps {
  view: PodView;
  writer: Pick<StoreWriter, 'enqueue' | 'requestReconcile'>;
  sourceKind: PodSource['kind'];
  clock: Clock;
  logger: Logger;
  metrics: WatcherMetrics;
}

export interface ViewSink {
  sink: PodSink;
  /**
   * The reconcile's bound. From the API: the version the view is complete up to. A pods
   * file has none, but once read it is the whole truth and no event ever follows it, so
   * every unlisted entry is stale: a version after every etcd revision says so. Passing
   * nothing would bound by the newest pod in the file, and a pod that was newer than all
   * that remain, removed from the file while no watcher ran, would keep its claim.
   */
  listingVersion(): string | undefined;
}

export function createViewSink(deps: ViewSinkDeps): ViewSink {
  const { view, writer, clock, logger, metrics } = deps;
  /** The version the view is complete up to: the listing's, then each event's. */
  let viewVersion: string | undefined;
  const advance = (version: string) => {
    if (viewVersion !== undefined) viewVersion = newest(viewVersion, version);
  };
  const track = () => metrics.podsTracked.set(view.size);

  const sink: PodSink = {
    listing(records: PodRecord[], resourceVersion?: string) {
      const now = clock.now();
      const vanished = view.replaceAll(records, resourceVersion);
      viewVersion = resourceVersion;
      track();
      writer.requestReconcile(now);
      if (vanished.length > 0) writer.enqueue(vanished, now);
    },
    upsert(record: PodRecord) {
      const { outcome, ops } = view.upsert(record);
      advance(record.resourceVersion);
      if (outcome === 'stale') {
        // Expected now and then (a duplicate, a relist overlapping events); never applied.
        logger.debug(
          {
            namespace: record.namespace,
            name: record.name,
            uid: record.uid,
            resourceVersion: record.resourceVersion,
          },
          'ignored an event not newer than what the view knows of that pod',
        );
      } else if (outcome === 'replaced') {
        logger.info(
          { namespace: record.namespace, name: record.name, uid: record.uid },
          'pod recreated under the same name',
        );
      }
      track();
      if (ops.length > 0) writer.enqueue(ops, clock.now());
    },
    remove(record: PodRecord) {
      const ops = view.remove(record);
      advance(record.resourceVersion);
      track();
      writer.enqueue(ops, clock.now());
    },
  };
  return {
    sink,
    listingVersion: () => viewVersion ?? (deps.sourceKind === 'file' ? AFTER_EVERY_REVISION : undefined),
  };
}
