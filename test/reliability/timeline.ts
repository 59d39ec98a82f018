// What happened to the cluster's heartbeat and to the watchers, moment by moment (the test
// process's performance.now()), so that a misattribution's example says which heartbeat the
// readers were trusting and what each watcher was doing then. Without it, a rare failure on a
// loaded machine leaves only "this identity was 3 s late", and the run cannot be repeated.
import net from 'node:net';
import type { LogLine } from '@podgate/test-support';

export interface TimelineEvent {
  at: number;
  what: string;
  detail?: Record<string, unknown>;
}

/** Events kept (the oldest are dropped): a run has a few hundred. */
const KEEP = 20_000;
/** Events in one example: the latest before its end. */
const PER_EXAMPLE = 40;

export class Timeline {
  private readonly events: TimelineEvent[] = [];

  add(what: string, detail?: Record<string, unknown>): void {
    this.events.push({ at: performance.now(), what, ...(detail !== undefined ? { detail } : {}) });
    if (this.events.length > KEEP) this.events.splice(0, this.events.length - KEEP);
  }

  /** The events of [from, to], as ms relative to `origin` (negative: before it). */
  around(from: number, to: number, origin: number): Array<Record<string, unknown>> {
    return this.events
      .filter((e) => e.at >= from && e.at <= to)
      .slice(-PER_EXAMPLE)
      .map((e) => ({ ms: Math.round(e.at - origin), what: e.what, ...e.detail }));
  }

  /** A podgate process's log lines, by message (the watcher's are a few per state change). */
  follow(process: { pid: number; command: string; onLine(l: (line: LogLine) => void): () => void }): void {
    process.onLine((line) => {
      const msg = String(line.msg);
      if (msg === 'pod event') return;
      this.add(`${process.command} ${process.pid}: ${msg.slice(0, 80)}`);
    });
  }
}

/**
 * Polls `key`'s PTTL on the Redis at `port` every `intervalMs` over one plain connection
 * (re-opened after Redis restarts) and records when a heartbeat was written (its expiry moved
 * later) and when it was gone. Stops with `stop()`.
 */
export function watchHeartbeat(
  port: number,
  key: string,
  timeline: Timeline,
  intervalMs = 100,
): { stop(): void } {
  let stopped = false;
  let socket: net.Socket | null = null;
  let timer: NodeJS.Timeout | undefined;
  let expiresAt = Number.NEGATIVE_INFINITY;
  let gone = true;
  let buffered = '';
  const command = `*2\r\n$4\r\nPTTL\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`;

  const onReply = (ttl: number) => {
    const now = performance.now();
    if (ttl > 0) {
      // A later expiry than the last one seen (beyond the poll's own jitter): written again.
      if (now + ttl > expiresAt + 50) timeline.add('heartbeat written', { ttlMs: ttl });
      expiresAt = now + ttl;
      gone = false;
    } else if (!gone) {
      gone = true;
      timeline.add('heartbeat gone');
    }
  };

  const connect = () => {
    if (stopped) return;
    const s = net.connect({ host: '127.0.0.1', port });
    socket = s;
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf('\r\n');
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line.startsWith(':')) onReply(Number(line.slice(1)));
        end = buffered.indexOf('\r\n');
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      socket = null;
      buffered = '';
      if (!stopped) setTimeout(connect, intervalMs).unref();
    });
  };
  connect();
  timer = setInterval(() => {
    if (socket?.writable) socket.write(command);
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      socket?.destroy();
    },
  };
}
