// A scenario run as a separate process against the real `podgate proxy` command, for the
// attacks that need what a test worker cannot do to itself: a network namespace of its own
// (a link-local IPv6 address on its loopback) or a low open-file limit on the proxy. It
// starts an echo upstream, writes an endpoint that forwards everyone to it, starts the proxy
// (embedded store), runs the scenario, stops the proxy and prints one JSON line. Used by
// src/attack-process.test.ts; run as `node --import tsx services/proxy/test/attack-driver.ts
// SCENARIO` from the repository root.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin/podgate');
const scenario = process.argv[2] ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Exchange {
  echoed: string;
  error?: string;
}

/** Connects to `host`, sends `payload`, half-closes, collects what comes back until closed. */
function exchange(host: string, port: number, payload: string, timeoutMs = 3_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), timeoutMs);
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e) => {
      error = e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ echoed: Buffer.concat(chunks).toString(), ...(error !== undefined ? { error } : {}) });
    });
  });
}

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

async function main(): Promise<Record<string, unknown>> {
  const upstream = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as net.AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'podgate-attack-'));
  const config = join(dir, 'proxy.yaml');
  writeFileSync(
    config,
    `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: app, namespace: payments}
spec:
  url: tcp://app.payments:7000
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${upstreamPort}"}
`,
  );
  // In its own network namespace any port is free; elsewhere ask the system for one.
  const port = scenario === 'link-local' ? 17000 : await freePort();
  const listen = scenario === 'link-local' ? `[::]:${port}` : `127.0.0.1:${port}`;
  const host = scenario === 'link-local' ? '::1' : '127.0.0.1';
  const args = [
    'proxy',
    '--config',
    config,
    '--bind',
    `tcp://app.payments:7000=${listen}`,
    '--listen',
    '127.0.0.1:0',
    '--max-connections',
    '10000',
    '--log-level',
    'warn',
  ];
  // The open-file limit applies to the proxy only (bash's ulimit, then exec).
  // 256: tsx and zod open many files at once while the process starts; the load is well past it.
  const limit = scenario === 'fd-limit' ? 'ulimit -n 256; ' : '';
  const child = spawn('bash', ['-c', `${limit}exec "$0" "$@"`, bin, ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString();
  });
  let exit: { code: number | null; signal: string | null } | null = null;
  child.on('exit', (code, signal) => {
    exit = { code, signal };
  });
  const alive = () => exit === null;
  const result: Record<string, unknown> = { scenario };
  try {
    // Ready once a connection is echoed.
    const deadline = Date.now() + 20_000;
    let ready: Exchange = { echoed: '' };
    while (Date.now() < deadline && alive()) {
      ready = await exchange(host, port, 'ready', 1_000);
      if (ready.echoed === 'ready') break;
      await sleep(100);
    }
    result.ready = ready.echoed === 'ready';
    if (scenario === 'link-local') {
      // A client on the same link: Node reports its address with a zone (`fe80::1%lo`).
      result.linkLocal = await exchange('fe80::1%lo', port, 'from-link-local');
    } else if (scenario === 'fd-limit') {
      // Many more silent connections than the proxy has file descriptors.
      const held: net.Socket[] = [];
      for (let i = 0; i < 600; i++) {
        const s = net.connect({ host, port });
        s.on('error', () => {});
        held.push(s);
      }
      await sleep(1_500);
      result.aliveUnderLoad = alive();
      for (const s of held) s.destroy();
      await sleep(500);
    }
    await sleep(300);
    result.aliveAfter = alive();
    // Serving again: the descriptors freed by the closed connections take a moment to return.
    let after: Exchange | null = null;
    for (const until = Date.now() + 5_000; alive() && Date.now() < until; await sleep(200)) {
      after = await exchange(host, port, 'after');
      if (after.echoed === 'after') break;
    }
    result.after = after;
  } finally {
    if (alive()) child.kill('SIGTERM');
    await new Promise<void>((r) => (exit !== null ? r() : child.once('exit', () => r())));
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
  result.exit = exit;
  result.stderr = stderr.slice(-4_000);
  return result;
}

main().then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ scenario, driverError: String(e) })}\n`);
    process.exit(1);
  },
);
