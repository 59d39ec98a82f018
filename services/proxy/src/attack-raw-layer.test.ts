// Attacks on the raw socket layer (raw-tcp.ts, raw-splice.ts, timer-wheel.ts) that the other
// suites do not make. Every test runs on both layers, so a difference shows as one failing.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { hasIpv6Loopback } from '@podgate/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { appEndpoint } from '../test/configs.js';
import { exchange, loadConfig, pod, startTestProxy, startUpstream, type TestProxy } from '../test/harness.js';
import { connectionLogLine } from './log-line.js';

const APP = 'tcp://app.payments:7000';
const PODS = [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ipv6 = await hasIpv6Loopback();

/** A socket that listens and never accepts, its queue filled: new handshakes stall. */
async function stalledListener(): Promise<{ port: number; close(): void }> {
  const child = spawn('python3', [
    '-c',
    'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  const fillers = [0, 1, 2].map(() => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    return s;
  });
  await sleep(100);
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      child.kill();
    },
  };
}

describe.each(['raw', 'net'] as const)('attack: the raw layer (%s sockets)', (socketLayer) => {
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  // Stop (SIGTERM's drain ended) while a connection is still connecting to an upstream that
  // never answers: the connect deadline still ends that attempt, the connection is recorded,
  // and no upstream handle is left keeping the process alive for the kernel's SYN retries.
  it('stop during an upstream connect still ends the attempt at the connect timeout', async () => {
    const stalled = await stalledListener();
    try {
      const p = await startTestProxy(loadConfig(appEndpoint(stalled.port)), PODS, {
        connectTimeoutMs: 300,
        socketLayer,
      });
      const socket = net.connect({ host: '127.0.0.1', port: p.port(APP), localAddress: '127.0.0.2' });
      socket.on('error', () => {});
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
      await sleep(100);
      const { aborted } = await p.proxy.stop(0);
      expect(aborted).toBe(1);
      await closed;
      await expect.poll(() => p.records.length, { timeout: 2_000 }).toBe(1);
      expect(p.records[0]?.end).toMatch(/^(client_gone|connect_timeout)$/);
    } finally {
      stalled.close();
    }
  });

  // The identity snapshot: what a pod sends while its lookup is pending is held (at most a read
  // buffer's worth read, the rest left in the kernel) and forwarded after the allow: every byte,
  // in order. 3 MiB is far past the pre-read limit, so reading stops and resumes on the way.
  it('3 MiB pipelined during a slow lookup reach the upstream whole and in order', async () => {
    const upstream = await startUpstream('hold');
    try {
      // Slow, but the store's own answer: the pod is allowed once the lookup returns.
      proxy = await startTestProxy(
        loadConfig(appEndpoint(upstream.port)),
        PODS,
        { socketLayer },
        async (ip) => {
          await sleep(200);
          return proxy!.store.lookup(ip, ['test']);
        },
      );
      const payload = randomBytes(3 * 1024 * 1024);
      const s = net.connect({ host: '127.0.0.1', port: proxy.port(APP), localAddress: '127.0.0.2' });
      s.on('error', () => {});
      s.resume();
      s.end(payload);
      await expect.poll(() => upstream.received[0]?.length ?? 0, { timeout: 5_000 }).toBe(payload.length);
      const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      expect(hash(upstream.received[0]!)).toBe(hash(payload));
      expect(upstream.accepted).toBe(1);
      s.destroy();
    } finally {
      await upstream.close();
    }
  });

  // A busy connection is not idle: a byte every 100 ms one way keeps a connection whose idle
  // timeout is 400 ms open; once it goes quiet it is closed, never before the timeout.
  it('a trickle one way keeps a connection open; quiet, it is closed no sooner than the timeout', async () => {
    const upstream = await startUpstream('hold');
    try {
      proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, {
        idleTimeoutMs: 400,
        socketLayer,
      });
      const s = net.connect({ host: '127.0.0.1', port: proxy.port(APP), localAddress: '127.0.0.2' });
      s.on('error', () => {});
      const closedAt = new Promise<number>((r) => s.on('close', () => r(performance.now())));
      let last = 0;
      for (let i = 0; i < 15; i++) {
        s.write('.');
        last = performance.now();
        await sleep(100);
      }
      expect(s.destroyed).toBe(false);
      const quiet = (await closedAt) - last;
      expect(quiet).toBeGreaterThanOrEqual(400);
      expect(quiet).toBeLessThan(1_500);
      await expect.poll(() => proxy!.records[0]?.end).toBe('idle_timeout');
      expect(proxy.records[0]!.bytesFromClient).toBe(15);
    } finally {
      await upstream.close();
    }
  });

  // Deadlines under load: 1,000 connections go quiet at once; each is closed, none before its
  // idle timeout, all within a bounded time after it.
  it('1,000 quiet connections are each closed at their idle timeout, none early', async () => {
    const upstream = await startUpstream('hold');
    try {
      proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, {
        idleTimeoutMs: 500,
        socketLayer,
      });
      const quiet = await Promise.all(
        Array.from(
          { length: 1_000 },
          () =>
            new Promise<number>((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port: proxy!.port(APP), localAddress: '127.0.0.2' });
              s.on('error', () => {});
              let sentAt = 0;
              // Sent once the connection is spliced (the upstream has it), so the idle clock runs.
              s.on('connect', () =>
                s.write('x', () => {
                  sentAt = performance.now();
                }),
              );
              s.on('close', () => resolve(performance.now() - sentAt));
            }),
        ),
      );
      expect(proxy.records.filter((r) => r.end !== 'idle_timeout').map((r) => r.end)).toEqual([]);
      expect(Math.min(...quiet)).toBeGreaterThanOrEqual(500);
      expect(Math.max(...quiet)).toBeLessThan(3_000);
    } finally {
      await upstream.close();
    }
  }, 15_000);

  // A client that resets before the proxy has read its address. A few may be allowed and
  // reach the upstream as an empty connection, closed at once: the pod is allowed.
  it('clients that reset straight after connecting are recorded as gone, not as unidentifiable', async () => {
    const upstream = await startUpstream('echo');
    try {
      proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, { socketLayer });
      await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port: proxy!.port(APP), localAddress: '127.0.0.2' });
              s.on('error', () => {});
              s.on('connect', () => s.resetAndDestroy());
              s.on('close', () => resolve());
            }),
        ),
      );
      await expect.poll(() => proxy!.records.length, { timeout: 3_000 }).toBe(200);
      // Gone before its address was read is `client_gone`, as at any later step: it is not a
      // peer address Podgate failed to read (client_unidentifiable, an alert for operators).
      expect(proxy.records.filter((r) => r.end !== 'client_gone')).toEqual([]);
      expect(proxy.proxy.open()).toBe(0);
    } finally {
      await upstream.close();
    }
  });

  // Half-close in the order upstream first: the upstream sends more than a client that does not
  // read can take, then its FIN (queued behind those bytes); the client then sends its FIN. The
  // client's FIN must reach the upstream now (nothing is queued towards the upstream), not
  // when the client finally reads everything or the idle timeout ends the connection.
  it('the upstream FINs behind bytes the client does not read; the client FIN still reaches it at once', async () => {
    let sawEnd: Promise<number> | undefined;
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      sawEnd = new Promise((r) => s.on('end', () => r(performance.now())));
      s.resume();
      s.end(Buffer.alloc(16 * 1024 * 1024, 7));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      proxy = await startTestProxy(loadConfig(appEndpoint(port)), PODS, {
        idleTimeoutMs: 5_000,
        socketLayer,
      });
      const s = net.connect({
        host: '127.0.0.1',
        port: proxy.port(APP),
        localAddress: '127.0.0.2',
        allowHalfOpen: true,
      });
      s.on('error', () => {});
      s.pause();
      await new Promise((r) => s.once('connect', r));
      await sleep(300);
      const finAt = performance.now();
      s.end('request');
      const seen = await Promise.race([sawEnd!, sleep(2_000).then(() => Number.NaN)]);
      expect(seen - finAt, 'the upstream did not see the client FIN within 2 s').toBeLessThan(1_000);
      s.destroy();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  // An upstream at an IPv6 address (`tcp://[::1]:PORT`): the raw layer connects with connect6.
  it.skipIf(!ipv6)('an upstream at [::1] is reached, byte for byte', async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => server.listen(0, '::1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const config = appEndpoint(port).replace(`tcp://127.0.0.1:${port}`, `tcp://[::1]:${port}`);
      proxy = await startTestProxy(loadConfig(config), PODS, { socketLayer });
      const r = await exchange(proxy.port(APP), '127.0.0.2', 'over v6');
      expect(r.received.toString()).toBe('over v6');
      // Bracketed, in the record and so in the log line: `::1:PORT` cannot be split back.
      expect(proxy.records[0]).toMatchObject({ end: 'closed', upstream: `[::1]:${port}` });
      expect(connectionLogLine(proxy.records[0]!).upstream).toBe(`[::1]:${port}`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
