// The supervised list+watch loop over the Kubernetes API.
// - list in pages into slim records, hand the complete listing over (the sink reconciles);
// - watch from the listing's resourceVersion with bookmarks, keeping the newest version;
// - the server ending a watch normally: watch again from the kept version;
// - a watch failing (dropped, reset, aborted, an ERROR event): watch again, after backoff,
//   from the version of the last event or bookmark it delivered, never from an older one:
//   the server would send every event since then again, and those are already applied;
// - 410 Gone (HTTP or an ERROR event): relist;
// - silence longer than the idle timeout: abort and watch again;
// - any other failure (refused, dropped, 5xx, 401): retry with capped, jittered backoff.

import { errorMessage } from '@podgate/errors';
import type { PodRecord } from '@podgate/identity';
import type { Clock, Logger } from '@podgate/runtime';
import { type BackoffPolicy, backoffDelay } from '@podgate/runtime';
import { WatcherError } from '../errors.js';
import type { WatcherMetrics } from '../metrics.js';
import type { KubeApi, PodQuery, WatchEvent } from './kube-api.js';
import type { DerivePodRecord, PodSink, PodSource, SourceHealth } from './types.js';

const LIST_PAGE_TIMEOUT_MS = 60_000;

export interface KubernetesSourceOptions extends PodQuery {
  pageSize: number;
  watchIdleTimeoutMs: number;
  /** Asked of the server per watch; it then ends the watch cleanly and we resume. */
  watchTimeoutSeconds: number;
  backoff: BackoffPolicy;
}

export interface KubernetesSourceDeps {
  api: KubeApi;
  derive: DerivePodRecord;
  clock: Clock;
  logger: Logger;
  metrics: WatcherMetrics;
}

/** The version a watch has delivered up to: where the next watch starts. */
interface WatchProgress {
  resourceVersion: string;
}

type WatchEnd =
  | { kind: 'closed'; resourceVersion: string }
  | { kind: 'gone' }
  | { kind: 'idle'; resourceVersion: string };

export class KubernetesPodSource implements PodSource {
  readonly kind = 'kubernetes';
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly state: SourceHealth = { lastContactAt: null, failingSince: null, lastError: null };
  /** A watch that worked for a while and then dropped starts its backoff afresh. */
  private contactSinceFailure = false;

  constructor(
    private readonly deps: KubernetesSourceDeps,
    private readonly options: KubernetesSourceOptions,
  ) {}

  start(sink: PodSink): void {
    this.loop ??= this.run(sink);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  health(): SourceHealth {
    return { ...this.state };
  }

  private contact(): void {
    this.contactSinceFailure = true;
    this.state.lastContactAt = this.deps.clock.now();
    this.state.failingSince = null;
    this.state.lastError = null;
  }

  private async run(sink: PodSink): Promise<void> {
    const { clock, logger, metrics } = this.deps;
    let resourceVersion: string | null = null;
    let failures = 0;
    let goneStreak = 0;
    while (!this.stopping.signal.aborted) {
      /** How far the current watch got; read when it fails. */
      let progress: WatchProgress | null = null;
      try {
        if (resourceVersion === null) {
          resourceVersion = await this.list(sink);
          failures = 0;
          goneStreak = 0;
        }
        progress = { resourceVersion };
        const end = await this.watch(progress, sink);
        if (end.kind === 'gone') {
          logger.info({ resourceVersion }, 'watch resourceVersion too old (410 Gone); relisting');
          metrics.watchRestarts.inc({ reason: 'gone' });
          resourceVersion = null;
          continue;
        }
        resourceVersion = end.resourceVersion;
        metrics.watchRestarts.inc({ reason: end.kind });
        if (end.kind === 'idle') {
          // Not an error, but a server that keeps going silent must not be hammered.
          failures = this.freshFailureCount(failures) + 1;
          logger.warn(
            { idleMs: this.options.watchIdleTimeoutMs },
            'watch silent for too long; restarting it',
          );
          await clock.sleep(backoffDelay(failures, this.options.backoff, clock.random), this.stopping.signal);
        } else {
          failures = 0;
        }
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        if (error instanceof WatcherError && error.code === 'kube_api_gone') {
          // An expired continue token or a 410 on the watch request itself: relist, at
          // once the first time, with backoff if it keeps happening.
          metrics.watchRestarts.inc({ reason: 'gone' });
          resourceVersion = null;
          if (++goneStreak > 1) {
            logger.warn({ goneStreak }, 'repeated 410 Gone while listing; backing off');
            await clock.sleep(
              backoffDelay(goneStreak - 1, this.options.backoff, clock.random),
              this.stopping.signal,
            );
          }
          continue;
        }
        // Everything up to the last delivered event is applied: resume after it.
        if (progress !== null) resourceVersion = progress.resourceVersion;
        failures = this.freshFailureCount(failures) + 1;
        this.state.failingSince ??= clock.now();
        this.state.lastError = errorMessage(error);
        metrics.watchRestarts.inc({ reason: 'error' });
        const delay = backoffDelay(failures, this.options.backoff, clock.random);
        const log = failures === 1 ? logger.warn.bind(logger) : logger.debug.bind(logger);
        log({ err: errorMessage(error), failures, retryInMs: delay }, 'Kubernetes API list/watch failed');
        await clock.sleep(delay, this.stopping.signal);
      }
    }
  }

  private freshFailureCount(failures: number): number {
    const reset = this.contactSinceFailure;
    this.contactSinceFailure = false;
    return reset ? 0 : failures;
  }

  /** Lists every page; returns the listing's resourceVersion after handing it to the sink. */
  private async list(sink: PodSink): Promise<string> {
    const { api, clock, logger, metrics } = this.deps;
    const started = clock.now();
    const records: PodRecord[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await api.listPods(
        {
          namespace: this.options.namespace,
          labelSelector: this.options.labelSelector,
          limit: this.options.pageSize,
          ...(continueToken === undefined ? {} : { continueToken }),
        },
        // A list that never answers must fail (and be retried), not hang the source.
        AbortSignal.any([this.stopping.signal, AbortSignal.timeout(LIST_PAGE_TIMEOUT_MS)]),
      );
      this.contact();
      // Every page of one paginated list reports the snapshot's version; keep the first.
      resourceVersion ??= page.resourceVersion;
      continueToken = page.continueToken;
      for (const item of page.items) {
        const record = this.derive(item);
        if (record) records.push(record);
      }
    } while (continueToken !== undefined && !this.stopping.signal.aborted);
    if (this.stopping.signal.aborted) throw new WatcherError('kube_api_network', 'stopped while listing');
    metrics.relists.inc();
    metrics.events.inc({ type: 'listing' });
    logger.info({ pods: records.length, resourceVersion, ms: clock.now() - started }, 'listed pods');
    sink.listing(records, resourceVersion);
    return resourceVersion;
  }

  private async watch(progress: WatchProgress, sink: PodSink): Promise<WatchEnd> {
    const { api, metrics } = this.deps;
    const resourceVersion = progress.resourceVersion;
    let gone = false;
    let idle = false;
    let failure: WatcherError | null = null;
    const controller = new AbortController();
    const onStop = () => controller.abort();
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, this.options.watchIdleTimeoutMs);
    };
    const onEvent = (event: WatchEvent) => {
      arm();
      this.contact();
      if (event.type === 'ERROR') {
        const status = event.object as { code?: number; message?: string } | undefined;
        if (status?.code === 410) gone = true;
        else
          failure = new WatcherError('kube_api_http', `watch ERROR event: ${status?.message ?? 'unknown'}`);
        controller.abort();
        return;
      }
      const version = resourceVersionOf(event.object);
      metrics.events.inc({ type: event.type.toLowerCase() });
      if (event.type !== 'BOOKMARK') {
        const record = this.derive(event.object);
        if (record) {
          if (event.type === 'DELETED') sink.remove(record);
          else sink.upsert(record);
        }
      }
      // Only once the sink has the event: a watch failing now resumes after it.
      if (version !== undefined) progress.resourceVersion = version;
    };
    try {
      arm();
      await api.watchPods(
        {
          namespace: this.options.namespace,
          labelSelector: this.options.labelSelector,
          resourceVersion,
          timeoutSeconds: this.options.watchTimeoutSeconds,
        },
        { onOpen: () => this.contact(), onEvent },
        controller.signal,
      );
    } catch (error) {
      if (!gone && !idle && failure === null) throw error;
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
    if (failure !== null) throw failure;
    if (gone) return { kind: 'gone' };
    if (idle) return { kind: 'idle', resourceVersion: progress.resourceVersion };
    return { kind: 'closed', resourceVersion: progress.resourceVersion };
  }

  private derive(item: unknown): PodRecord | null {
    try {
      return compact(this.deps.derive(item));
    } catch (error) {
      this.deps.logger.warn({ err: errorMessage(error) }, 'skipping a pod object that cannot be read');
      return null;
    }
  }
}

/**
 * The record with an exactly sized IP list: a list built by push() reserves 17 slots, and
 * the view keeps one list per pod (~13 MB at 100,000 pods).
 */
function compact(record: PodRecord): PodRecord {
  record.ips = record.ips.slice();
  return record;
}

function resourceVersionOf(object: unknown): string | undefined {
  const version = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof version === 'string' && version !== '' ? version : undefined;
}
