// Upstreams that do not behave: one that never completes the TCP handshake (its accept queue
// is full) is given up at --connect-timeout; one that accepts and goes silent is closed at
// --idle-timeout. Either way the client is closed and the reason logged.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { appEndpoint } from '../test/configs.js';
import {
  exchange,
  loadConfig,
  pod,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../test/harness.js';

const config = (upstreamPort: number) => appEndpoint(upstreamPort);
const APP = 'tcp://app.payments:7000';
const PODS = [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')];

/** A socket that listens and never accepts, its queue filled: new handshakes stall. */
async function stalledListener(): Promise<{ port: number; close(): void }> {
  const child = spawn('python3', [
    '-c',
    'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)',
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  // Fill the accept queue (backlog 0 holds one) so the next SYN gets no answer.
  const fillers = [0, 1, 2].map(() => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    return s;
  });
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      child.kill();
    },
  };
}

// Both socket layers: raw libuv handles (the default) and net.Socket streams (the fallback).
describe.each(['raw', 'net'] as const)('proxy: upstreams that stall (%s sockets)', (socketLayer) => {
  let proxy: TestProxy | undefined;
  let upstream: Upstream | undefined;
  afterEach(async () => {
    await proxy?.stop();
    await upstream?.close();
    proxy = undefined;
    upstream = undefined;
  });

  it('a handshake that never completes is given up at the connect timeout', async () => {
    const stalled = await stalledListener();
    try {
      proxy = await startTestProxy(loadConfig(config(stalled.port)), PODS, {
        connectTimeoutMs: 300,
        socketLayer,
      });
      const started = performance.now();
      const r = await exchange(proxy.port(APP), '127.0.0.2', 'anyone?', 5_000);
      const took = performance.now() - started;
      expect(r).toMatchObject({ closedBy: 'peer' });
      expect(r.received.length).toBe(0);
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(3_000);
      expect(proxy.records[0]).toMatchObject({ end: 'connect_timeout', error: { code: 'connect_timeout' } });
    } finally {
      stalled.close();
    }
  });

  it('an upstream that accepts and goes silent is closed at the idle timeout', async () => {
    upstream = await startUpstream('hold');
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, {
      idleTimeoutMs: 300,
      socketLayer,
    });
    const closed = await new Promise<number>((resolve) => {
      const started = performance.now();
      const s = net.connect({ host: '127.0.0.1', port: proxy!.port(APP), localAddress: '127.0.0.2' });
      s.on('connect', () => s.write('hello?'));
      s.on('error', () => {});
      s.on('close', () => resolve(performance.now() - started));
    });
    expect(closed).toBeGreaterThanOrEqual(250);
    expect(closed).toBeLessThan(3_000);
    await expect.poll(() => proxy!.records[0]).toMatchObject({ end: 'idle_timeout', bytesFromClient: 6 });
  });
});
