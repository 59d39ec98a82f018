// Which clusters' watchers are alive, as a reader sees it. Refreshed in the background so a
// lookup stays one round trip: each refresh reads the remaining TTL of every tracked
// cluster's heartbeat key, and a cluster counts as fresh until (local time of the read +
// that TTL). So a dead watcher's claims stop counting when its heartbeat expires (plus the
// read's latency), and a renewed heartbeat is seen within one refresh interval.

/** What one read of a cluster's heartbeat found. */
export interface HeartbeatRead {
  /** Remaining TTL in ms; negative = no heartbeat. */
  ttlMs: number;
  /** Whether anything of the cluster is in the store (a heartbeat or records): false for a name no watcher ever wrote. */
  written: boolean;
}

export interface FreshnessOptions {
  /** Per cluster; missing = no heartbeat and nothing written. */
  readTtls: (clusters: readonly string[]) => Promise<Map<string, HeartbeatRead>>;
  refreshMs: number;
  now: () => number;
  /** Failures of background refreshes (the store keeps the last known expiries). */
  onError?: (err: unknown) => void;
}

export class FreshnessTracker {
  private readonly freshUntil = new Map<string, number>();
  /** Clusters found with nothing in the store at the last read. */
  private readonly unwritten = new Set<string>();
  private readonly tracked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Reads sent so far, and per cluster the latest one applied. */
  private reads = 0;
  private readonly appliedRead = new Map<string, number>();

  constructor(private readonly options: FreshnessOptions) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.options.onError?.(err));
    }, this.options.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  isFresh(cluster: string): boolean {
    return (this.freshUntil.get(cluster) ?? Number.NEGATIVE_INFINITY) > this.options.now();
  }

  /** False when the last read found nothing of `cluster` in the store: no watcher ever wrote it. */
  wasWritten(cluster: string): boolean {
    return !this.unwritten.has(cluster);
  }

  /** Clusters among `clusters` not tracked yet (a lookup must then wait for `track`). */
  untracked(clusters: readonly string[]): string[] {
    return clusters.filter((c) => !this.tracked.has(c));
  }

  /** Starts tracking `clusters` and reads their heartbeats now. */
  async track(clusters: readonly string[]): Promise<void> {
    const fresh = this.untracked(clusters);
    if (fresh.length === 0) return;
    await this.read(fresh);
    for (const c of fresh) this.tracked.add(c);
  }

  /**
   * A read of every tracked cluster sent now, not shared with one already in flight: that one
   * may have been sent before a heartbeat the caller has just written.
   */
  readNow(): Promise<void> {
    return this.read([...this.tracked]);
  }

  /**
   * One refresh of every tracked cluster; concurrent calls share it (the background timer's)
   * for at most one refresh interval. A read sent just before the store's connection died is
   * not failed when it closes: it waits for the client's command timeout (5 s). Shared past
   * the interval, it would hold every later refresh, and the reader would keep a cluster's
   * last expiry (fresh, over a store that may have restarted empty) or, once that passed, see
   * it stale, for seconds after the store was back. A later refresh sends its own read; the
   * late answer of the stuck one is dropped if a newer one was applied.
   */
  refresh(): Promise<void> {
    if (this.running === undefined) {
      let release: NodeJS.Timeout | undefined;
      const running = new Promise<void>((resolve, reject) => {
        release = setTimeout(resolve, this.options.refreshMs);
        release.unref();
        this.read([...this.tracked]).then(resolve, reject);
      }).finally(() => {
        clearTimeout(release);
        if (this.running === running) this.running = undefined;
      });
      this.running = running;
    }
    return this.running;
  }

  private async read(clusters: readonly string[]): Promise<void> {
    if (clusters.length === 0) return;
    const sent = ++this.reads;
    const readAt = this.options.now();
    const ttls = await this.options.readTtls(clusters);
    for (const cluster of clusters) {
      // Reads may overlap (readNow, track): an answer older than one applied already is dropped.
      if ((this.appliedRead.get(cluster) ?? 0) > sent) continue;
      this.appliedRead.set(cluster, sent);
      const read = ttls.get(cluster) ?? { ttlMs: -1, written: false };
      this.freshUntil.set(cluster, read.ttlMs > 0 ? readAt + read.ttlMs : Number.NEGATIVE_INFINITY);
      if (read.written) this.unwritten.delete(cluster);
      else this.unwritten.add(cluster);
    }
  }
}
