// The real `podgate proxy` process under connections that end every way there is, on each
// socket layer: its open descriptors are counted (/proc/PID/fd) before and after, so a handle
// left open by any ending shows as a leak; then SIGTERM with connections still open (one of
// them still connecting) must end the process promptly and cleanly.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin/podgate');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PER_KIND = 120;

async function serve(onSocket: (s: net.Socket) => void): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, server };
}

/** Listens and never accepts, its queue filled: a new handshake stalls. */
async function stalled(): Promise<{ port: number; close(): void }> {
  const child = spawn('python3', [
    '-c',
    'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)',
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  const fillers = [0, 1, 2].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
  await sleep(100);
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      child.kill();
    },
  };
}

/** Resolves once the client socket is closed, whichever way (never rejects). */
function client(port: number, act: (s: net.Socket) => void, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: false });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, timeoutMs);
    let how = 'closed';
    s.on('error', (e: NodeJS.ErrnoException) => {
      how = e.code ?? 'error';
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(how);
    });
    s.once('connect', () => act(s));
  });
}

const endpoint = (name: string, port: number) => `---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: ${name}, namespace: payments}
spec:
  url: tcp://${name}.payments:7000
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${port}"}
`;

const NAMES = ['echo', 'reset', 'refused', 'stall', 'hold', 'flood', 'firehose'] as const;
type Name = (typeof NAMES)[number];

describe.each(['raw', 'net'] as const)('attack: the proxy process, every ending (%s sockets)', (layer) => {
  const cleanup: (() => void)[] = [];
  const ports = {} as Record<Name, number>;
  let child: ChildProcess;
  let exit: Promise<{ code: number | null; signal: string | null }>;
  let stderr = '';
  const fds = () => readdirSync(`/proc/${child.pid}/fd`).length;

  beforeAll(async () => {
    const upstreams: Record<Name, number> = {
      echo: (await serve((s) => s.pipe(s))).port,
      // Reads the first bytes and answers with a reset.
      reset: (await serve((s) => s.once('data', () => s.resetAndDestroy()))).port,
      refused: await freePort(),
      stall: 0,
      // Accepts, never reads, never writes.
      hold: (await serve((s) => s.pause())).port,
      // Sends 4 MiB at once to a client that may not read it.
      flood: (await serve((s) => s.end(Buffer.alloc(4 * 1024 * 1024, 1)))).port,
      // Sends for as long as it is read, and reads nothing.
      firehose: (
        await serve((s) => {
          const block = Buffer.alloc(64 * 1024, 4);
          const pump = () => {
            while (!s.destroyed) if (!s.write(block)) return void s.once('drain', pump);
          };
          pump();
        })
      ).port,
    };
    const stall = await stalled();
    cleanup.push(stall.close);
    upstreams.stall = stall.port;
    const dir = mkdtempSync(join(tmpdir(), 'podgate-endings-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'proxy.yaml'), NAMES.map((n) => endpoint(n, upstreams[n])).join(''));
    const binds: string[] = [];
    const taken = new Set<number>(Object.values(upstreams));
    for (const n of NAMES) {
      // A port freed by one probe can be handed out again by the next: never bind two alike.
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      ports[n] = port;
      binds.push('--bind', `tcp://${n}.payments:7000=127.0.0.1:${ports[n]}`);
    }
    child = spawn(
      bin,
      [
        'proxy',
        '--config',
        join(dir, 'proxy.yaml'),
        ...binds,
        '--listen',
        '127.0.0.1:0',
        '--socket-layer',
        layer,
        '--connect-timeout',
        '300ms',
        '--idle-timeout',
        '400ms',
        // Shorter than the connect timeout: a connect is still in flight when the drain ends.
        '--drain-timeout',
        '0ms',
        '--log-level',
        'error',
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 20_000) stderr += c.toString();
    });
    exit = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    cleanup.push(() => child.kill('SIGKILL'));
    for (const until = Date.now() + 20_000; Date.now() < until; await sleep(100)) {
      const echoed: Buffer[] = [];
      const how = await client(
        ports.echo,
        (s) => {
          s.on('data', (c: Buffer) => echoed.push(c));
          s.end('ready');
        },
        1_000,
      );
      if (how === 'closed' && Buffer.concat(echoed).toString() === 'ready') return;
    }
    throw new Error(`the proxy did not start: ${stderr}`);
  }, 30_000);

  afterAll(() => {
    for (const c of cleanup.reverse()) c();
  });

  /** Every way a connection can end, one each per call. */
  const endings: (() => Promise<string>)[] = [
    // Clean: data, half-close, the echo read to the end.
    () =>
      client(ports.echo, (s) => {
        s.resume();
        s.end(Buffer.alloc(10_000, 2));
      }),
    // The client resets mid-transfer.
    () =>
      client(ports.echo, (s) => {
        s.resume();
        s.write(Buffer.alloc(256 * 1024, 3));
        setTimeout(() => s.resetAndDestroy(), 5);
      }),
    // The client resets at once, before the lookup can answer.
    () => client(ports.echo, (s) => s.resetAndDestroy()),
    // A FIN without a byte.
    () =>
      client(ports.echo, (s) => {
        s.resume();
        s.end();
      }),
    // The upstream resets.
    () =>
      client(ports.reset, (s) => {
        s.resume();
        s.write('hello');
      }),
    // The upstream refuses the connection.
    () =>
      client(ports.refused, (s) => {
        s.resume();
        s.write('hello');
      }),
    // The upstream never completes the handshake: the connect timeout.
    () =>
      client(ports.stall, (s) => {
        s.resume();
        s.write('hello');
      }),
    // The upstream accepts and never answers: the idle timeout.
    () =>
      client(ports.hold, (s) => {
        s.resume();
        s.write('hello');
      }),
    // The upstream floods a client that never reads and then resets.
    () =>
      client(ports.flood, (s) => {
        s.pause();
        setTimeout(() => s.resetAndDestroy(), 50);
      }),
  ];

  it(`${PER_KIND * 9} connections ending every way leave no descriptor open`, async () => {
    for (const e of endings) await e();
    await sleep(600);
    const before = fds();
    const jobs = endings.flatMap((e) => Array.from({ length: PER_KIND }, () => e));
    const outcomes = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 48 }, async () => {
        while (next < jobs.length) {
          const how = await jobs[next++]!();
          outcomes.set(how, (outcomes.get(how) ?? 0) + 1);
        }
      }),
    );
    expect(outcomes.get('timeout'), JSON.stringify([...outcomes])).toBeUndefined();
    expect(child.exitCode, stderr).toBeNull();
    // Idle and connect deadlines of the last connections end within a second.
    let after = fds();
    for (const until = Date.now() + 3_000; after > before && Date.now() < until; await sleep(100))
      after = fds();
    expect(after, `descriptors before ${before}, after ${after}`).toBeLessThanOrEqual(before);
  }, 60_000);

  // Backpressure both ways: clients that never read a firehose, clients that send to an
  // upstream that never reads. What the proxy holds is bounded by its write queues, not by
  // what the peers offer.
  it('peers that never read: the memory of the proxy stays bounded', async () => {
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
    const before = rss();
    const sockets: net.Socket[] = [];
    let offered = 0;
    for (let i = 0; i < 8; i++) {
      const reader = net.connect({ host: '127.0.0.1', port: ports.firehose }).on('error', () => {});
      reader.pause();
      sockets.push(reader);
      const writer = net.connect({ host: '127.0.0.1', port: ports.hold }).on('error', () => {});
      const block = Buffer.alloc(64 * 1024, 5);
      const pump = () => {
        while (!writer.destroyed) {
          offered += block.length;
          if (!writer.write(block)) return void writer.once('drain', pump);
        }
      };
      writer.once('connect', pump);
      sockets.push(writer);
    }
    // With backpressure the peers' writes stop once the kernel buffers and the proxy's bounded
    // queues are full; a proxy that buffered without bound would keep taking bytes at loopback
    // speed. So: wait until what is offered stops growing (RSS alone mixes in garbage not yet
    // collected, which on Node 24's larger stream buffers passed any fixed bound).
    await sleep(300);
    let last = offered;
    let quietFor = 0;
    for (let waited = 0; waited < 6_000 && quietFor < 600; waited += 200) {
      await sleep(200);
      quietFor = offered - last < 1024 * 1024 ? quietFor + 200 : 0;
      last = offered;
    }
    const grown = rss() - before;
    for (const s of sockets) s.destroy();
    expect(offered).toBeGreaterThan(16 * 1024 * 1024);
    expect(quietFor, `still taking bytes: ${offered} offered`).toBeGreaterThanOrEqual(600);
    // Sixteen connections, each with at most a read buffer and a write queue's worth held, plus
    // the garbage of what passed through.
    expect(grown, `RSS grew ${grown} bytes`).toBeLessThan(128 * 1024 * 1024);
  }, 20_000);

  it('SIGTERM with connections open (idle, connecting) ends the process cleanly and promptly', async () => {
    const held = [
      client(ports.hold, (s) => s.write('hello')),
      client(ports.stall, (s) => s.write('hello')),
      client(ports.echo, (s) => {
        s.resume();
        s.write('kept open');
      }),
    ];
    await sleep(100);
    const sent = Date.now();
    child.kill('SIGTERM');
    const result = await Promise.race([exit, sleep(4_000).then(() => 'still running')]);
    expect(result, stderr).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(3_000);
    expect(await Promise.all(held)).not.toContain('timeout');
    expect(stderr).not.toMatch(/uncaught|unhandled|TypeError|RangeError/i);
  }, 20_000);
});
