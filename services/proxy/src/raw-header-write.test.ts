// The raw layer's PROXY header write to the upstream, when it fails at once: the connection ends
// as an upstream error, recorded, with the client reset and both sockets closed.
//
// Forcing it takes an upstream that resets after the proxy saw its connect succeed but before the
// header is written. Both happen in one turn of the event loop (a reset that comes earlier fails
// the connect instead), so the upstream is another process, and the test holds the proxy at the
// one step between the two, the connect deadline's removal from the timer wheel: there it tells
// that process to reset the connection (a file), and waits until it has (another file).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import { afterEach, describe, expect, it } from 'vitest';
import { appEndpoint } from '../test/configs.js';
import { loadConfig, pod } from '../test/harness.js';
import type { ConnectionRecord } from './connection.js';
import { handleRawConnection } from './raw-connection.js';
import { rawListen, rawTcpAvailable } from './raw-tcp.js';
import { createTimerWheel, type TimerWheel } from './timer-wheel.js';

const APP = 'tcp://app.payments:7000';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** Accepts one connection; once `go` exists, resets it (SO_LINGER 0), then creates `done`. */
async function resettingUpstream(go: string, done: string): Promise<number> {
  const child = spawn('python3', [
    '-c',
    [
      'import os,socket,struct,sys,time',
      's=socket.socket()',
      's.bind(("127.0.0.1",0))',
      's.listen(8)',
      'print(s.getsockname()[1],flush=True)',
      'c,_=s.accept()',
      'while not os.path.exists(sys.argv[1]): time.sleep(0.001)',
      'c.setsockopt(socket.SOL_SOCKET,socket.SO_LINGER,struct.pack("ii",1,0))',
      'c.close()',
      'open(sys.argv[2],"w").close()',
    ].join('\n'),
    go,
    done,
  ]);
  cleanup.push(() => child.kill());
  return new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
}

/** A wheel whose first removal (the connect deadline's) creates `go` and waits for `done`. */
function wheelWaitingFor(go: string, done: string): TimerWheel {
  const wheel = createTimerWheel(20);
  cleanup.push(() => wheel.stop());
  let waited = false;
  return {
    ...wheel,
    tickMs: wheel.tickMs,
    remove(entry) {
      if (!waited) {
        waited = true;
        writeFileSync(go, '');
        const until = Date.now() + 5_000;
        while (!existsSync(done) && Date.now() < until) {
          // A synchronous wait on purpose: the proxy must not get to run in between.
        }
      }
      wheel.remove(entry);
    },
  };
}

describe.skipIf(!rawTcpAvailable())('raw layer: the PROXY header write to the upstream', () => {
  it('fails at once: both sockets closed, the client reset, the connection ends as upstream_error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podgate-header-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const go = join(dir, 'go');
    const done = join(dir, 'done');
    const port = await resettingUpstream(go, done);
    const config = loadConfig(
      appEndpoint(port).replace(
        `upstream: {url: "tcp://127.0.0.1:${port}"}`,
        `upstream: {url: "tcp://127.0.0.1:${port}", proxyProtocolVersion: 1}`,
      ),
    );
    const endpoint = config.endpoints.find((e) => e.url.href === APP)!;
    const store = new MemoryIdentityStore();
    await store.heartbeat('test', 3_600_000);
    await store.reconcile('test', [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')]);

    const records: ConnectionRecord[] = [];
    const listener = rawListen('127.0.0.1', 0, (conn) => {
      void handleRawConnection(
        conn,
        conn.peer(),
        { endpoint, listener: 'test' },
        {
          lookup: (ip) => store.lookup(ip, ['test']),
          connectTimeoutMs: 2_000,
          idleTimeoutMs: 10_000,
          now: () => performance.now(),
          onEnd: (r) => records.push(r),
          track: () => () => {},
          wheel: wheelWaitingFor(go, done),
        },
      );
    });
    cleanup.push(() => listener.close());

    const client = net.connect({
      host: '127.0.0.1',
      port: listener.address().port,
      localAddress: '127.0.0.2',
    });
    cleanup.push(() => client.destroy());
    const clientEnd = new Promise<string>((resolve) => {
      client.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      client.on('end', () => resolve('clean end'));
    });
    client.resume();

    expect(await clientEnd).toBe('ECONNRESET');
    await expect.poll(() => records.length, { timeout: 2_000 }).toBe(1);
    expect(existsSync(done), 'the upstream never reset the connection').toBe(true);
    expect(records[0]).toMatchObject({
      end: 'upstream_error',
      upstream: `127.0.0.1:${port}`,
      error: { code: 'upstream_error', message: expect.stringMatching(/^E[A-Z]+$/) },
    });
  });
});
