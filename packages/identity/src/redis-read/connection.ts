// One dedicated connection for lookups on a single Redis server. Requests are pipelined
// and answered in order (FIFO). Why not ioredis here: its per-command cost roughly halved
// the one-caller lookup rate (bench/store.bench.ts, docs/adr/0004-lookup-read-connection.md).
//
// - Deadline: every request gets `requestTimeoutMs`. Requests are queued in deadline order,
//   so one timer, armed for the oldest unexpired request, replaces a timer per request.
//   A request past its deadline is answered with `timeout` but stays queued until its
//   reply arrives, so the replies behind it still reach their own requests.
// - Outage: while disconnected, requests fail at once (`not_connected`); when the socket
//   drops, every outstanding request fails at once (`connection_lost`); the connection is
//   re-established with backoff, re-authenticated and re-SELECTed. A reply overdue by
//   `stallTimeoutMs` past its deadline means a dead peer: the socket is dropped.
// - Bounded: at most `maxOutstanding` requests in flight (`queue_full` beyond).
import net from 'node:net';
import tls from 'node:tls';
import { Fifo } from './fifo.js';
import { encodeCommand, RespErrorReply, RespReader, type RespValue } from './resp.js';

export type ReadErrorCode =
  | 'not_connected' // no ready connection right now (connecting, reconnecting or closed)
  | 'connection_lost' // the socket dropped with the request outstanding
  | 'timeout' // no reply within the deadline
  | 'queue_full' // too many requests outstanding
  | 'error_reply' // Redis answered with an error (`-ERR ...`)
  | 'protocol_error'; // the reply stream is not RESP2

export class ReadError extends Error {
  readonly code: ReadErrorCode;
  constructor(code: ReadErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadError';
    this.code = code;
  }
}

/** Called exactly once per request. */
export type ReadCallback = (err: ReadError | null, reply: RespValue) => void;

export interface ReadConnectionOptions {
  host: string;
  port: number;
  /** Present: connect with TLS (node:tls options, e.g. `ca`); `servername` defaults to the host. */
  tls?: tls.ConnectionOptions;
  username?: string;
  password?: string;
  db?: number;
  /** Deadline of one request. */
  requestTimeoutMs: number;
  /** Default 10,000. */
  maxOutstanding?: number;
  /**
   * Commands issued in one turn of the event loop go out together at its end; with this, as
   * soon as this many wait, in a write of their own. Default: no such bound. A server that
   * reads many requests per turn and waits on each lookup (the decision service) sets one:
   * the lookups of the first requests go to Redis while it reads the rest, instead of Redis
   * idle until the turn ends and the server idle while Redis answers them all (measured:
   * docs/decision.md).
   */
  flushAfterCommands?: number;
  /** Connect plus handshake. Default 10,000. */
  connectTimeoutMs?: number;
  /** A reply this late past its deadline means the peer is gone. Default 5,000. */
  stallTimeoutMs?: number;
  /** Delay before reconnect attempt `attempt` (1, 2, ...); null stops reconnecting. */
  retryDelayMs?: (attempt: number) => number | null;
  /** Socket and handshake failures (requests see their own errors). */
  onError?: (err: unknown) => void;
  /** Monotonic milliseconds. Default performance.now. */
  now?: () => number;
  /**
   * Commands sent on every (re)connection after AUTH and SELECT, before the connection is
   * ready (e.g. SCRIPT LOAD, so that EVALSHA finds its script after a Redis restart).
   */
  prepare?: readonly (readonly string[])[];
}

interface Pending {
  callback: ReadCallback;
  deadline: number;
}

const DEFAULT_MAX_OUTSTANDING = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_STALL_TIMEOUT_MS = 5_000;
const KEEPALIVE_MS = 30_000;

export function defaultRetryDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 10), 2_000);
}

const discard: ReadCallback = () => {};

export class ReadConnection {
  private socket: net.Socket | undefined;
  private ready = false;
  private closed = false;
  private readonly pending = new Fifo<Pending>();
  /** How many requests at the head of `pending` were already answered with `timeout`. */
  private expired = 0;
  private out = '';
  /** Commands in `out`. */
  private outCount = 0;
  private flushScheduled = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private readonly reader = new RespReader((reply) => this.onReply(reply));
  private readonly now: () => number;
  private readonly maxOutstanding: number;
  private readonly flushAfter: number;
  private readonly stallTimeoutMs: number;
  private readonly retryDelayMs: (attempt: number) => number | null;
  private onFirstConnect: ((err: Error | null) => void) | undefined;

  private constructor(private readonly options: ReadConnectionOptions) {
    this.now = options.now ?? (() => performance.now());
    this.maxOutstanding = options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
    this.flushAfter = options.flushAfterCommands ?? Number.POSITIVE_INFINITY;
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  }

  /** Connects and authenticates; rejects when the first attempt fails (nothing is left running). */
  static open(options: ReadConnectionOptions): Promise<ReadConnection> {
    const conn = new ReadConnection(options);
    return new Promise((resolve, reject) => {
      conn.onFirstConnect = (err) => {
        conn.onFirstConnect = undefined;
        if (err === null) {
          resolve(conn);
        } else {
          conn.close();
          reject(err);
        }
      };
      conn.connect();
    });
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Requests sent and not yet answered by Redis (timed-out ones included). */
  get outstanding(): number {
    return this.pending.length;
  }

  send(args: readonly string[], callback: ReadCallback): void {
    this.sendEncoded(encodeCommand(args), callback);
  }

  /** Sends a command already encoded (resp.ts encodeCommand, or encodeCommandStart + encodeBulk). */
  sendEncoded(command: string, callback: ReadCallback): void {
    if (!this.ready) {
      callback(new ReadError('not_connected', 'not connected to Redis'), null);
      return;
    }
    if (this.pending.length >= this.maxOutstanding) {
      callback(new ReadError('queue_full', `${this.maxOutstanding} requests outstanding`), null);
      return;
    }
    this.enqueue(command, callback, this.options.requestTimeoutMs);
  }

  /** Fails every outstanding request and stops reconnecting. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    this.dropSocket(new ReadError('not_connected', 'the connection was closed'));
  }

  private enqueue(command: string, callback: ReadCallback, timeoutMs: number): void {
    const deadline = this.now() + timeoutMs;
    this.pending.push({ callback, deadline });
    this.out += command;
    // Commands issued in one turn of the event loop (all the connections accepted, or all
    // the callers woken, in one poll) go out together instead of one syscall each: at a
    // few thousand connections a second the write syscall was most of a lookup's cost. At
    // most `flushAfter` wait for the end of the turn (the option says why).
    if (++this.outCount >= this.flushAfter) {
      this.write();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    // Deadlines only grow while requests share one timeout: then the armed timer stays.
    if (deadline < this.sweepAt) this.armSweep(deadline);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.write();
  };

  private write(): void {
    const out = this.out;
    this.out = '';
    this.outCount = 0;
    if (out !== '' && this.socket !== undefined && !this.socket.destroyed) this.socket.write(out);
  }

  private onReply(reply: RespValue): void {
    const request = this.pending.shift();
    if (request === undefined) {
      this.fail(new ReadError('protocol_error', 'a reply arrived with no request outstanding'));
      return;
    }
    if (this.expired > 0) {
      this.expired--; // its caller already got `timeout`: the reply is consumed and dropped
      return;
    }
    if (reply instanceof RespErrorReply) {
      request.callback(new ReadError('error_reply', reply.message), null);
    } else {
      request.callback(null, reply);
    }
  }

  private armSweep(at: number): void {
    clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(this.sweep, Math.max(1, Math.ceil(at - this.now())));
    this.sweepTimer.unref();
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    for (let next = this.pending.at(this.expired); next !== undefined; next = this.pending.at(this.expired)) {
      if (next.deadline > now) break;
      this.expired++;
      const { callback } = next;
      next.callback = discard;
      callback(new ReadError('timeout', `no reply within ${this.options.requestTimeoutMs} ms`), null);
    }
    const head = this.pending.at(0);
    if (this.expired > 0 && head !== undefined && now >= head.deadline + this.stallTimeoutMs) {
      this.fail(
        new ReadError('timeout', `no reply for ${Math.round(now - head.deadline)} ms past a deadline`),
      );
      return;
    }
    const waiting = this.pending.at(this.expired);
    if (waiting !== undefined) this.armSweep(waiting.deadline);
    else if (head !== undefined) this.armSweep(head.deadline + this.stallTimeoutMs);
  };

  private connect(): void {
    const { host, port } = this.options;
    const socket =
      this.options.tls !== undefined
        ? tls.connect({
            host,
            port,
            ...(net.isIP(host) === 0 ? { servername: host } : {}),
            ...this.options.tls,
          })
        : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    this.connectTimer = setTimeout(() => {
      this.fail(
        new ReadError('not_connected', `no connection to ${host}:${port} within the connect timeout`),
      );
    }, this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();
    socket.once(this.options.tls !== undefined ? 'secureConnect' : 'connect', () => this.handshake());
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        this.reader.feed(chunk);
      } catch (err) {
        this.fail(new ReadError('protocol_error', errorText(err), { cause: err }));
      }
    });
    let lastError: Error | undefined;
    socket.on('error', (err) => {
      lastError = err;
      this.options.onError?.(err);
    });
    socket.once('close', () => {
      if (this.socket !== socket) return;
      const why = lastError === undefined ? '' : `: ${lastError.message}`;
      const err = new ReadError('connection_lost', `the Redis connection dropped${why}`, {
        cause: lastError,
      });
      // A peer's clean close emits no 'error', but the owner must still hear of it.
      if (lastError === undefined) this.options.onError?.(err);
      this.dropSocket(err);
    });
  }

  /** AUTH, SELECT and `prepare`, pipelined ahead of any request; ready once all answered OK. */
  private handshake(): void {
    const steps: string[][] = [];
    const { username, password, db } = this.options;
    if (password !== undefined)
      steps.push(username !== undefined ? ['AUTH', username, password] : ['AUTH', password]);
    if (db !== undefined && db !== 0) steps.push(['SELECT', String(db)]);
    for (const command of this.options.prepare ?? []) steps.push([...command]);
    steps.push(['PING']);
    let left = steps.length;
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    for (const step of steps) {
      this.enqueue(
        encodeCommand(step),
        (err) => {
          if (err !== null) {
            this.fail(new ReadError(err.code, `${step[0]} failed: ${err.message}`, { cause: err }));
            return;
          }
          if (--left > 0) return;
          clearTimeout(this.connectTimer);
          this.ready = true;
          this.attempts = 0;
          this.onFirstConnect?.(null);
        },
        timeoutMs,
      );
    }
  }

  /** A connection-level failure: report it and drop the socket (which reconnects). */
  private fail(err: ReadError): void {
    this.options.onError?.(err);
    this.dropSocket(err);
  }

  private dropSocket(err: ReadError): void {
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    clearTimeout(this.connectTimer);
    socket?.destroy();
    this.reader.reset();
    this.out = '';
    this.outCount = 0;
    const failed = this.pending.drain();
    for (let i = this.expired; i < failed.length; i++) failed[i]!.callback(err, null);
    this.expired = 0;
    if (this.onFirstConnect !== undefined) {
      this.onFirstConnect(err);
      return;
    }
    if (!this.closed && socket !== undefined) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.retryDelayMs(++this.attempts);
    if (delay === null) {
      this.options.onError?.(new ReadError('not_connected', 'gave up reconnecting to Redis'));
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed) this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
