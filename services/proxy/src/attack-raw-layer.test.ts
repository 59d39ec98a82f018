// Attacks on the raw socket layer (raw-tcp.ts, raw-splice.ts, timer-wheel.ts) that the other
// suites do not make. Every test runs on both layers, so a difference shows as one failing.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { appEndpoint } from '../test/configs.js';
import { loadConfig, pod, startTestProxy, type TestProxy } from '../test/harness.js';

const APP = 'tcp://app.payments:7000';
const PODS = [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
});
