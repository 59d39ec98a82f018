// Pods from a YAML file as `kubectl get pods -A -o yaml` prints it. Every successful
// read is a complete listing (the sink reconciles). Changes are noticed by fs.watch on
// the directory (editors and `kubectl ... > file` replace or truncate the file) and, as a
// fallback for file systems without change events, by polling its size and mtime.
// A file that cannot be read or parsed is logged and the last good state (if any) is kept.
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { errorMessage } from '@podgate/errors';
import type { PodRecord } from '@podgate/identity';
import type { Clock, Logger } from '@podgate/runtime';
import type { WatcherMetrics } from '../metrics.js';
import type { PodSink, PodSource, SourceHealth } from './types.js';

/** Parses the file's text into records; throws (with file and line) when it is invalid. */
export type ParsePodsFile = (text: string, file: string) => PodRecord[];

export interface PodsFileSourceDeps {
  parse: ParsePodsFile;
  clock: Clock;
  logger: Logger;
  metrics: WatcherMetrics;
}

export interface PodsFileSourceOptions {
  path: string;
  pollIntervalMs: number;
  /** Coalesces the burst of change events one save produces. */
  debounceMs?: number;
  /** false: polling only (file systems where fs.watch reports nothing, e.g. some mounts). */
  fsWatch?: boolean;
}

export class PodsFileSource implements PodSource {
  readonly kind = 'file';
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  /** Digest of the last good file: unchanged content is not re-listed, and no copy of a large file is kept. */
  private lastDigest: string | null = null;
  private lastStat = '';
  /** How many pods the last good file listed; null before the first good read. */
  private lastPods: number | null = null;
  private reading: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly state: SourceHealth = { lastContactAt: null, failingSince: null, lastError: null };

  constructor(
    private readonly deps: PodsFileSourceDeps,
    private readonly options: PodsFileSourceOptions,
  ) {}

  start(sink: PodSink): void {
    const { path } = this.options;
    const schedule = () => {
      if (this.stopped) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.enqueueRead(sink), this.options.debounceMs ?? 50);
    };
    if (this.options.fsWatch !== false) this.watchDirectory(path, schedule);
    this.poller = setInterval(() => {
      void stat(path)
        .then(signatureOf)
        .catch(() => 'missing')
        .then((signature) => {
          if (signature !== this.lastStat) schedule();
        });
    }, this.options.pollIntervalMs);
    this.enqueueRead(sink);
  }

  private watchDirectory(path: string, schedule: () => void): void {
    try {
      const name = basename(path);
      this.watcher = watch(dirname(path), (_event, changed) => {
        if (changed === null || changed.toString() === name) schedule();
      });
      this.watcher.on('error', (error) => {
        this.deps.logger.warn({ err: errorMessage(error), path }, 'fs.watch failed; relying on polling');
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (error) {
      this.deps.logger.warn({ err: errorMessage(error), path }, 'fs.watch unavailable; relying on polling');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
    await this.reading;
  }

  health(): SourceHealth {
    return { ...this.state };
  }

  private enqueueRead(sink: PodSink): void {
    // One read at a time, in order, so an older read cannot overwrite a newer one.
    this.reading = this.reading.then(() => this.read(sink));
  }

  private async read(sink: PodSink): Promise<void> {
    if (this.stopped) return;
    const { path } = this.options;
    const { clock, logger, metrics, parse } = this.deps;
    let digest: string;
    let records: PodRecord[];
    try {
      const s = await stat(path).catch((error: unknown) => {
        this.lastStat = 'missing'; // logged once, not on every poll
        throw error;
      });
      this.lastStat = signatureOf(s);
      const before = signatureOf(s);
      const text = await readFile(path, 'utf8');
      digest = createHash('sha256').update(text).digest('hex');
      if (digest === this.lastDigest) {
        // Back to the last good content (e.g. a bad edit undone): healthy again, nothing to re-list.
        this.state.lastError = null;
        return;
      }
      records = parse(text, path);
      // Written to while it was read (a writer that truncates and then writes, paused longer
      // than the debounce): what was read may end in the middle of a pod, and YAML cut there
      // can still parse, with a pod missing or an annotation's value cut short. Not applied:
      // the write's own change events (or the next poll, which sees this marker) read it again.
      const after = signatureOf(await stat(path));
      if (after !== before) {
        this.lastStat = 'changed while read';
        logger.debug({ path }, 'pods file changed while it was read; reading it again');
        return;
      }
    } catch (error) {
      // The file is the whole truth once read: a bad edit keeps the last good state (and
      // the heartbeat) rather than making the cluster stale; only a first read counts.
      this.state.lastError = errorMessage(error);
      if (this.lastPods === null) {
        this.state.failingSince ??= clock.now();
        logger.error(
          { err: errorMessage(error), path },
          'pods file unusable, and never read: no pods are recorded until it is fixed',
        );
      } else {
        logger.error(
          { err: errorMessage(error), path, lastGoodPods: this.lastPods },
          `pods file unusable; keeping the last good state (${this.lastPods} pods)`,
        );
      }
      return;
    }
    if (this.stopped) return;
    this.lastDigest = digest;
    this.lastPods = records.length;
    this.state.lastContactAt = clock.now();
    this.state.failingSince = null;
    this.state.lastError = null;
    metrics.relists.inc();
    metrics.events.inc({ type: 'listing' });
    logger.info({ path, pods: records.length }, 'pods file read');
    sink.listing(records);
  }
}

function signatureOf(s: { ino: number; size: number; mtimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}
