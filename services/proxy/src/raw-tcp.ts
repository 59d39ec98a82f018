// The one file that uses Node's internal TCP bindings (`process.binding('tcp_wrap')` and
// `stream_wrap`, the layer `net.Socket` is built on), and why: a `net.Socket` is a stream.Duplex,
// and building, driving and tearing down two of them per connection was most of the proxy's own
// CPU per connection (docs/adr/0007-raw-tcp-handles.md). Here a connection is its libuv handle,
// a read callback that hands over each chunk, and writes that report how much is still queued.
//
// The bindings are not a public API: `rawTcp()` checks the shape it relies on once and answers
// null when anything is missing, and the proxy then serves every connection with `net`, as before.
// Checked on Node 20 and Node 24.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** A queued write past this many bytes asks the caller to stop reading the other side. */
export const WRITE_HIGH_WATER = 64 * 1024;

/** libuv's read size, and the size of a socket's own read buffer. */
const READ_BUFFER_BYTES = 64 * 1024;

/** What the proxy uses of a libuv TCP handle (tcp_wrap.cc / stream_wrap.cc). */
interface TcpHandle {
  onread: (this: TcpHandle, buffer: ArrayBuffer | undefined) => void;
  onconnection: (this: TcpHandle, status: number, client: TcpHandle | undefined) => void;
  owner: RawTcp | null;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Buffer): number;
  shutdown(req: ShutdownReq): number;
  close(callback?: () => void): void;
  reset(callback?: () => void): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buffer: Buffer): void;
  getpeername(out: SockAddr): number;
  getsockname(out: SockAddr): number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
}
interface SockAddr {
  address?: string;
  port?: number;
  family?: string;
}
interface WriteReq {
  handle: TcpHandle | null;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  owner: RawTcp | null;
  bytes: number;
  buffer: Buffer | null;
}
interface ShutdownReq {
  handle: TcpHandle | null;
  oncomplete: (this: ShutdownReq, status: number) => void;
  owner: RawTcp | null;
  callback: (error: string | null) => void;
}
interface ConnectReq {
  oncomplete: (this: ConnectReq, status: number) => void;
  address: string;
  port: number;
  conn: RawTcp | null;
  callback: (error: string | null, conn: RawTcp) => void;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  SOCKET: number;
  SERVER: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

/** libuv's end-of-stream code (the same on every platform). */
const UV_EOF = -4095;

let bindings: Bindings | null | undefined;

function load(): Bindings | null {
  try {
    const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
    if (typeof binding !== 'function') return null;
    const tcp = binding('tcp_wrap');
    const stream = binding('stream_wrap');
    const constants = tcp.constants as Record<string, unknown> | undefined;
    const b = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      ShutdownWrap: stream.ShutdownWrap,
      SOCKET: constants?.SOCKET,
      SERVER: constants?.SERVER,
      state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kArrayBufferOffset: stream.kArrayBufferOffset,
      kLastWriteWasAsync: stream.kLastWriteWasAsync,
    };
    const functions = [b.TCP, b.TCPConnectWrap, b.WriteWrap, b.ShutdownWrap];
    const numbers = [b.SOCKET, b.SERVER, b.kReadBytesOrError, b.kArrayBufferOffset, b.kLastWriteWasAsync];
    if (!functions.every((f) => typeof f === 'function')) return null;
    if (!numbers.every((n) => typeof n === 'number')) return null;
    if (!(b.state instanceof Int32Array)) return null;
    const probe = new (b.TCP as Bindings['TCP'])(b.SOCKET as number);
    const methods = [
      'readStart',
      'readStop',
      'writeBuffer',
      'shutdown',
      'close',
      'reset',
      'setNoDelay',
      'useUserBuffer',
      'getpeername',
      'getsockname',
      'bind',
      'bind6',
      'listen',
      'connect',
      'connect6',
    ] as const;
    const ok = methods.every((m) => typeof probe[m] === 'function');
    probe.close();
    return ok ? (b as Bindings) : null;
  } catch {
    return null;
  }
}

/** The raw layer, or null when this Node does not offer it in the shape checked here. */
export function rawTcpAvailable(): boolean {
  if (bindings === undefined) bindings = load();
  return bindings !== null;
}

function must(): Bindings {
  if (bindings === undefined) bindings = load();
  if (bindings === null) throw new Error('raw TCP handles are not available on this Node.js');
  return bindings;
}

const noop = () => {};
// The bindings take only functions here (a native assertion, not a TypeError).
const noopRead = () => {};
const errName = (status: number) => {
  try {
    return getSystemErrorName(status);
  } catch {
    return `E${-status}`;
  }
};

/**
 * One TCP connection. Callbacks are plain properties (one object per connection, no emitter):
 * `onData` gets each chunk read (a view the callee may keep), `onEnd` the peer's FIN, `onError`
 * a failed read, write or shutdown (once), `onDrain` the write queue emptied after `write`
 * answered false.
 */
export class RawTcp {
  onData: (chunk: Buffer) => void = noop;
  onEnd: () => void = noop;
  onError: (code: string) => void = noop;
  onDrain: () => void = noop;
  /** Bytes handed to `write` that the kernel has not taken yet. */
  pending = 0;
  closed = false;
  /** The local address when the listener's is not a wildcard (no getsockname needed). */
  knownLocal: { address: string; port: number } | null = null;
  /** Set by ownReadBuffer(): every read lands here, and a chunk is valid until the next read. */
  readBuffer: Buffer | null = null;
  private reading = false;
  private failed = false;

  constructor(readonly handle: TcpHandle) {
    handle.owner = this;
    handle.onread = onRead;
  }

  /** The peer's address, or null (a socket already reset). `ipv4`: the kernel's dotted quad. */
  peer(): { address: string; port: number; ipv4: boolean } | null {
    const out: SockAddr = {};
    if (this.handle.getpeername(out) !== 0 || out.address === undefined) return null;
    return { address: out.address, port: out.port ?? 0, ipv4: out.family === 'IPv4' };
  }

  local(): { address: string; port: number } | null {
    if (this.knownLocal !== null) return this.knownLocal;
    const out: SockAddr = {};
    if (this.handle.getsockname(out) !== 0 || out.address === undefined) return null;
    return { address: out.address, port: out.port ?? 0 };
  }

  readStart(): void {
    if (this.reading || this.closed) return;
    this.reading = true;
    const status = this.handle.readStart();
    if (status !== 0) this.fail(status);
  }

  readStop(): void {
    if (!this.reading || this.closed) return;
    this.reading = false;
    this.handle.readStop();
  }

  /**
   * From now on, reads land in one buffer of this socket's own instead of a new allocation each
   * (a fresh 64 KiB backing store per read drove V8 into a full collection every few dozen MiB of
   * a bulk transfer). A chunk handed to onData is then only valid until the next read: a caller
   * that queues it (a write that did not complete) must stop reading until that write is done.
   */
  ownReadBuffer(): void {
    if (this.readBuffer !== null || this.closed) return;
    this.readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    this.handle.useUserBuffer(this.readBuffer);
  }

  /** Queues `chunk`; false when the queue is past WRITE_HIGH_WATER (stop reading the other side). */
  write(chunk: Buffer): boolean {
    if (this.closed) return true;
    const b = bindings!;
    // A write the kernel takes at once never touches its request object (stream_base.cc: the
    // try-write path returns before a WriteWrap is made), so one spare serves every such write;
    // a write that goes asynchronous keeps it, and the next write gets a new spare.
    const req = spare ?? newWriteReq(b);
    spare = null;
    req.handle = this.handle;
    req.owner = this;
    req.bytes = chunk.length;
    const status = this.handle.writeBuffer(req, chunk);
    if (status !== 0) {
      this.fail(status);
      return true;
    }
    if (b.state[b.kLastWriteWasAsync] === 0) {
      spare = req;
      return this.pending < WRITE_HIGH_WATER;
    }
    // The kernel did not take it all: libuv holds the rest until it can; keep the bytes alive.
    req.async = true;
    req.buffer = chunk;
    this.pending += chunk.length;
    return this.pending < WRITE_HIGH_WATER;
  }

  /** Sends a FIN once what is queued is written; `callback` gets an error code or null. */
  shutdown(callback: (error: string | null) => void): void {
    if (this.closed) {
      callback('ECLOSED');
      return;
    }
    const req = new bindings!.ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = onShutdownDone;
    req.owner = this;
    req.callback = callback;
    const status = this.handle.shutdown(req);
    if (status !== 0) callback(errName(status));
  }

  /** Closes the descriptor (a FIN, or a reset when unread bytes are left); queued writes are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    this.handle.onread = noopRead;
    this.handle.close(noop);
    this.release();
  }

  /** Closes with a reset (SO_LINGER 0), so the peer cannot mistake it for a clean end. */
  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    this.handle.onread = noopRead;
    if (this.handle.reset(noop) !== 0) this.handle.close(noop);
    this.release();
  }

  /**
   * Once closed nothing calls back, so let go of what the callbacks hold (the connection's
   * state, its buffers). A closed handle's JS object outlives the connection: the scavenger
   * keeps wrapped native objects that JS has touched until a full collection, and everything
   * reachable from one was copied and promoted with it, several KiB per connection; at 1,000
   * connections a second that made each young-generation collection a pause of several ms.
   */
  private release(): void {
    this.handle.owner = null;
    this.onData = noop;
    this.onEnd = noop;
    this.onError = noop;
    this.onDrain = noop;
    this.readBuffer = null;
  }

  /** The handle as a `net.Socket` (for a path that needs a stream), before anything was read. */
  toSocket(): net.Socket {
    this.closed = true;
    this.handle.onread = noopRead;
    this.handle.owner = null;
    return new net.Socket({
      handle: this.handle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
    } as never);
  }

  /** A read, write or shutdown failed: reported once. */
  fail(status: number): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.onError(errName(status));
  }
}

let spare: WriteReq | null = null;

function newWriteReq(b: Bindings): WriteReq {
  const req = new b.WriteWrap();
  req.oncomplete = onWriteDone;
  req.async = false;
  req.buffer = null;
  return req;
}

function onRead(this: TcpHandle, buffer: ArrayBuffer | undefined): void {
  const conn = this.owner;
  if (conn === null || conn.closed) return;
  const b = bindings!;
  const n = b.state[b.kReadBytesOrError]!;
  if (n > 0) {
    // With an own read buffer the binding passes no ArrayBuffer: the bytes are at its start.
    conn.onData(
      buffer === undefined
        ? conn.readBuffer!.subarray(0, n)
        : Buffer.from(buffer, b.state[b.kArrayBufferOffset]!, n),
    );
    return;
  }
  if (n === 0) return;
  conn.readStop();
  if (n === UV_EOF) conn.onEnd();
  else conn.fail(n);
}

function onWriteDone(this: WriteReq, status: number): void {
  const conn = this.owner;
  // The request object outlives the write (see RawTcp.release): it holds nothing after it.
  this.owner = null;
  this.handle = null;
  if (conn === null) return;
  if (this.buffer !== null) conn.pending -= this.bytes;
  this.buffer = null;
  if (status < 0) conn.fail(status);
  else if (conn.pending === 0 && !conn.closed) conn.onDrain();
}

// Requests hold nothing once they are done (see RawTcp.release).
function onShutdownDone(this: ShutdownReq, status: number): void {
  const callback = this.callback;
  this.callback = noop;
  this.owner = null;
  this.handle = null;
  callback(status < 0 ? errName(status) : null);
}

function onConnectDone(this: ConnectReq, status: number): void {
  const { callback, conn } = this;
  this.callback = noop;
  this.conn = null;
  if (conn !== null) callback(status < 0 ? errName(status) : null, conn);
}

/**
 * Connects to `address` (an IP) and `port`; `callback` once, with null or an error code. The
 * connection is returned at once so a deadline can close it.
 */
export function rawConnect(
  address: string,
  port: number,
  callback: (error: string | null, conn: RawTcp) => void,
): RawTcp {
  const b = must();
  const conn = new RawTcp(new b.TCP(b.SOCKET));
  conn.handle.setNoDelay(true);
  const req = new b.TCPConnectWrap();
  req.oncomplete = onConnectDone;
  req.address = address;
  req.port = port;
  req.conn = conn;
  req.callback = callback;
  const status = address.includes(':')
    ? conn.handle.connect6(req, address, port)
    : conn.handle.connect(req, address, port);
  if (status !== 0) {
    const code = errName(status);
    queueMicrotask(() => callback(code, conn));
  }
  return conn;
}

export interface RawServer {
  address(): { address: string; port: number };
  close(): void;
}

/** Listens on `host` (an IP) and `port`; each accepted connection goes to `onConnection`. */
export function rawListen(host: string, port: number, onConnection: (conn: RawTcp) => void): RawServer {
  const b = must();
  const handle = new b.TCP(b.SERVER);
  const fail = (what: string, status: number) => {
    handle.close();
    const code = errName(status);
    const error = new Error(`${what} ${code} ${host}:${port}`) as NodeJS.ErrnoException;
    error.code = code;
    throw error;
  };
  const bound = net.isIPv6(host) ? handle.bind6(host, port, 0) : handle.bind(host, port);
  if (bound !== 0) fail('bind', bound);
  const listening = handle.listen(511);
  if (listening !== 0) fail('listen', listening);
  const out: SockAddr = {};
  handle.getsockname(out);
  const address = { address: out.address ?? host, port: out.port ?? port };
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  handle.onconnection = (status, client) => {
    // A failed accept (EMFILE and the like) is libuv's to retry; nothing to hand over.
    if (status !== 0 || client === undefined) return;
    const conn = new RawTcp(client);
    if (!wildcard) conn.knownLocal = address;
    client.setNoDelay(true);
    onConnection(conn);
  };
  let closed = false;
  return {
    address: () => address,
    close: () => {
      if (closed) return;
      closed = true;
      handle.onconnection = noop;
      handle.close();
    },
  };
}
