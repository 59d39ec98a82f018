// The real `podgate proxy` process, its Redis paused (SIGSTOP) so every lookup hangs, and
// clients that send one byte per TCP segment meanwhile. The raw layer reads a client ahead of
// its decision (to see a reset); each read is held as its own buffer, a few hundred bytes
// however small. Bounded by bytes alone, 64 KiB of one-byte reads held ~15 MiB per connection
// (measured: 20 connections, 800 K one-byte writes, +186 MiB RSS; +0 with the bound). Reads are now bounded in number too.
//
// Not covered: the `net` layer (used for trusted proxies, or with --socket-layer net) reads a
// client into its stream buffer up to Node's 16 KiB high-water mark, counted in bytes too: the
// same run grew its RSS by 72 MiB. Bounding it needs the stream path to stop reading (and so
// stop seeing resets) during the lookup, a change left to the owner of connection.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin/podgate');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * 20 clients from 127.0.0.2, one byte each per turn of the loop, until 300,000 bytes are sent
 * (3 s on a quiet machine) or 8 s have passed; prints bytes sent. Bounded by volume, not time
 * alone: on a loaded machine 3 s sent too few bytes to tell (190,500 seen).
 */
const SENDER = `
const net = require('node:net');
const port = Number(process.argv[1]);
const clients = Array.from({ length: 20 }, () =>
  net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2', noDelay: true }).on('error', () => {}));
const one = Buffer.from('x');
let sent = 0;
const until = Date.now() + 8000;
const turn = () => {
  for (const s of clients) if (s.writableLength < 1000) { s.write(one); sent++; }
  if (Date.now() < until && sent < 300000) setImmediate(turn);
  else setTimeout(() => { console.log(sent); for (const s of clients) s.destroy(); }, 300);
};
turn();
`;

describe('attack: one-byte segments during a hung lookup (raw sockets, the real process)', () => {
  let redis: RedisServer;
  let upstream: net.Server;
  let child: ChildProcess;
  let port: number;
  let dir: string;
  let stderr = '';
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = net.createServer((s) => {
      s.on('error', () => {});
      s.resume();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'podgate-preread-'));
    writeFileSync(
      join(dir, 'proxy.yaml'),
      `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: app, namespace: payments}
spec:
  url: tcp://app.payments:7000
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${(upstream.address() as net.AddressInfo).port}"}
`,
    );
    port = await freePort();
    child = spawn(
      bin,
      [
        'proxy',
        '--config',
        join(dir, 'proxy.yaml'),
        '--bind',
        `tcp://app.payments:7000=127.0.0.1:${port}`,
        '--listen',
        '127.0.0.1:0',
        '--redis',
        redis.url,
        '--lookup-timeout',
        '20s',
        '--socket-layer',
        'raw',
        '--log-level',
        'error',
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 20_000) stderr += c.toString();
    });
    // Ready once a connection is forwarded (the store answers while Redis runs).
    for (const until = Date.now() + 20_000; Date.now() < until; await sleep(100)) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('error', () => resolve(false));
        s.on('connect', () => {
          s.destroy();
          resolve(true);
        });
      });
      if (ok) return;
    }
    throw new Error(`the proxy did not start: ${stderr}`);
  }, 30_000);

  afterAll(async () => {
    redis?.resume();
    child?.kill('SIGKILL');
    await redis?.stop();
    upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('what a client sends a byte at a time while its lookup hangs is not held read by read', async () => {
    await sleep(500);
    const before = rss();
    redis.pause();
    // The clients run in a process of their own, so they send as fast as a plain client can.
    const sender = spawn(process.execPath, ['-e', SENDER, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    sender.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await new Promise((r) => sender.once('exit', r));
    const sent = Number(out.trim());
    await sleep(300);
    const grown = rss() - before;
    redis.resume();
    expect(sent).toBeGreaterThan(200_000);
    expect(grown, `RSS grew ${grown >> 20} MiB`).toBeLessThan(16 * 1024 * 1024);
    expect(child.exitCode).toBeNull();
  }, 15_000);
});
