import net from 'node:net';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { listenHttp } from './server.js';

/** An answer larger than loopback's socket buffers on both ends can hold. */
const BIG = 'x'.repeat(32 * 1024 * 1024);

function app() {
  return new Hono().get('/big', (c) => c.text(BIG)).get('/small', (c) => c.text('ok'));
}

/**
 * A raw client that sends `request` and reads nothing for `pauseMs`, then reads on; resolves
 * with what it got once the connection ends, or after `giveUpMs` with the connection open.
 */
function stopsReading(
  port: number,
  request: string,
  pauseMs: number,
  giveUpMs: number,
): Promise<{ bytes: number; ended: boolean }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.pause();
      socket.write(request);
      setTimeout(() => socket.resume(), pauseMs);
    });
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    socket.on('error', () => {});
    const done = (ended: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, ended });
    };
    const timer = setTimeout(() => done(false), giveUpMs);
    socket.once('end', () => done(true));
  });
}

describe('answers that stop moving', () => {
  it('a client that stops reading a large answer is closed once it has made no progress for the interval', async () => {
    const server = await listenHttp(app(), { host: '127.0.0.1', port: 0 }, { stalledWriteMs: 300 });
    try {
      // Paused long enough for the answer to stall (the socket buffers are full) and be swept;
      // then it reads what the buffers held, and the end: not the whole answer.
      const got = await stopsReading(server.port, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n', 1_500, 10_000);
      expect(got.ended).toBe(true);
      expect(got.bytes).toBeLessThan(BIG.length);
      // The server goes on answering.
      expect(await (await fetch(`http://127.0.0.1:${server.port}/small`)).text()).toBe('ok');
    } finally {
      server.forceClose();
      await server.close();
    }
  });

  it('a keep-alive client that has read its answers is not closed by the sweep', async () => {
    const server = await listenHttp(app(), { host: '127.0.0.1', port: 0 }, { stalledWriteMs: 100 });
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    try {
      let closed = false;
      socket.on('close', () => {
        closed = true;
      });
      let received = '';
      socket.on('data', (d) => {
        received += d.toString();
      });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      for (let i = 0; i < 3; i++) {
        socket.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
        await new Promise((r) => setTimeout(r, 300)); // three sweeps between requests
      }
      expect(received.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
      expect(closed).toBe(false);
    } finally {
      socket.destroy();
      await server.close();
    }
  });
});
