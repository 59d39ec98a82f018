// rawConnect reads from the start (one epoll_ctl fewer per connection): what an upstream sends
// before the connection's user has set its callbacks (a server that speaks first, one that
// closes or resets at once) is kept and handed over by replayEarly, never dropped or turned
// into something else. The proxy sets its callbacks before any read can be delivered; these
// tests set them late on purpose.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RawTcp, rawConnect, rawTcpAvailable } from './raw-tcp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function server(onSocket: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

function connect(port: number): Promise<RawTcp> {
  return new Promise((resolve, reject) => {
    rawConnect('127.0.0.1', port, (error, conn) => {
      cleanup.push(() => conn.close());
      if (error !== null) reject(new Error(error));
      else resolve(conn);
    });
  });
}

/** Sets the callbacks, starts reading and replays, as the splice does; collects what comes. */
function attach(conn: RawTcp): { events: string[]; done: Promise<void> } {
  const events: string[] = [];
  let finished!: () => void;
  const done = new Promise<void>((r) => {
    finished = r;
  });
  conn.onData = (chunk) => events.push(`data ${chunk.toString()}`);
  conn.onEnd = () => {
    events.push('end');
    finished();
  };
  conn.onError = (code) => {
    events.push(`error ${code}`);
    finished();
  };
  conn.readStart();
  conn.replayEarly();
  return { events, done };
}

describe.skipIf(!rawTcpAvailable())('rawConnect: what is read before the callbacks are set', () => {
  it('a server that speaks first and closes: its bytes, then its FIN, in order', async () => {
    const port = await server((s) => s.end('220 ready'));
    const conn = await connect(port);
    await sleep(100);
    expect(conn.early, 'something was read before the callbacks were set').not.toBeNull();
    const { events, done } = attach(conn);
    await done;
    expect(events.join('|')).toBe('data 220 ready|end');
  });

  it('a server that closes at once: the FIN, once', async () => {
    const port = await server((s) => s.end());
    const conn = await connect(port);
    await sleep(100);
    const { events, done } = attach(conn);
    await done;
    await sleep(50);
    expect(events).toEqual(['end']);
  });

  it('a server that resets at once: an error, never a clean end', async () => {
    // After the connect has completed: a reset during it is the connect's own error.
    const port = await server((s) => setTimeout(() => s.resetAndDestroy(), 20));
    const conn = await connect(port);
    await sleep(100);
    const { events, done } = attach(conn);
    await done;
    await sleep(50);
    expect(events).toEqual(['error ECONNRESET']);
  });

  it('a server that keeps sending: one chunk is held, reading stops, the rest waits in the kernel', async () => {
    let sent = 0;
    const port = await server((s) => {
      const block = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        let room = true;
        while (sent < 4 * 1024 * 1024 && room) {
          room = s.write(block);
          sent += block.length;
        }
        if (sent < 4 * 1024 * 1024) s.once('drain', pump);
        else s.end();
      };
      pump();
    });
    const conn = await connect(port);
    await sleep(200);
    expect(conn.early?.chunk?.length ?? 0).toBeGreaterThan(0);
    expect(conn.early?.chunk?.length ?? 0).toBeLessThanOrEqual(64 * 1024);
    let received = 0;
    const ended = new Promise<void>((resolve) => {
      conn.onEnd = resolve;
    });
    conn.onData = (chunk) => {
      received += chunk.length;
    };
    conn.readStart();
    conn.replayEarly();
    await ended;
    expect(received).toBe(4 * 1024 * 1024);
  });
});
