// Real sockets for the proxy's tests: an upstream that echoes and counts what reached it,
// clients that bind a loopback address (the pod IP the proxy sees), and a proxy on the
// embedded store.
import net from 'node:net';
import { MemoryIdentityStore, type PodRecord } from '@podgate/identity';
import { loadPolicyFiles, type PolicyConfig } from '@podgate/policy';
import { planListeners } from '../src/bindings.js';
import type { ConnectionRecord } from '../src/connection.js';
import { type ProxyHandle, type ProxyOptions, startProxy } from '../src/proxy.js';

export interface Upstream {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Every byte each connection sent, in order. */
  received: Buffer[];
  close(): Promise<void>;
}

/** An upstream that echoes (or, with `mode: 'hold'`, reads and never answers). */
export async function startUpstream(mode: 'echo' | 'hold' = 'echo'): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const state: Upstream = {
    port: 0,
    accepted: 0,
    received: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    state.accepted++;
    sockets.add(socket);
    const index = state.received.push(Buffer.alloc(0)) - 1;
    socket.on('data', (chunk) => {
      state.received[index] = Buffer.concat([state.received[index]!, chunk]);
      if (mode === 'echo') socket.write(chunk);
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

export function loadConfig(text: string): PolicyConfig {
  const result = loadPolicyFiles([{ path: 'test.yaml', text }]);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return result.config;
}

export function pod(
  uid: string,
  ip: string,
  namespace: string,
  name = uid,
  annotations: Record<string, string> = {},
): PodRecord {
  return {
    uid,
    name,
    namespace,
    annotations,
    errorCode: '',
    errorMessage: '',
    ips: [ip],
    resourceVersion: '1',
  };
}

export interface TestProxy {
  proxy: ProxyHandle;
  store: MemoryIdentityStore;
  records: ConnectionRecord[];
  /** The bound port of the listener serving `url`. */
  port(url: string): number;
  stop(): Promise<void>;
}

export async function startTestProxy(
  config: PolicyConfig,
  pods: PodRecord[],
  options: Partial<ProxyOptions> = {},
  lookup?: (ip: string) => ReturnType<MemoryIdentityStore['lookup']>,
): Promise<TestProxy> {
  const store = new MemoryIdentityStore();
  await store.heartbeat('test', 3_600_000);
  await store.reconcile('test', pods);
  const records: ConnectionRecord[] = [];
  const plans = planListeners(
    config,
    config.endpoints
      .filter((e) => e.binding !== 'internal')
      .map((e) => ({ url: e.url.href, address: { host: '127.0.0.1', port: 0 } })),
  );
  const proxy = await startProxy(
    plans,
    {
      trusted: null,
      maxConnections: 10_000,
      connectTimeoutMs: 1_000,
      idleTimeoutMs: 10_000,
      proxyHeaderTimeoutMs: 1_000,
      ...options,
    },
    {
      lookup: lookup ?? ((ip) => store.lookup(ip, ['test'])),
      onConnection: (r) => records.push(r),
      onOverLimit: () => {},
      now: () => performance.now(),
    },
  );
  return {
    proxy,
    store,
    records,
    port: (url) => {
      const found = proxy.listeners().find((l) => l.endpoint === url);
      if (found === undefined) throw new Error(`no listener for ${url}`);
      return found.port;
    },
    stop: async () => {
      await proxy.stop(0);
    },
  };
}

export interface ClientResult {
  /** What came back before the connection ended. */
  received: Buffer;
  /** The connection was closed by the other side (FIN or reset). */
  closedBy: 'peer' | 'timeout';
  error?: string;
}

/** Connects from `from` (a loopback address), sends `payload`, half-closes, reads until closed. */
export function exchange(
  port: number,
  from: string,
  payload: Buffer | string,
  timeoutMs = 3_000,
): Promise<ClientResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from, allowHalfOpen: true });
    let error: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedBy: 'timeout' });
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(payload);
      socket.end();
    });
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => {
      error = e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({
        received: Buffer.concat(chunks),
        closedBy: 'peer',
        ...(error !== undefined ? { error } : {}),
      });
    });
  });
}
