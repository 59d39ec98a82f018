import net from 'node:net';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { listenHttp } from './server.js';

describe('listenHttp', () => {
  it('serves on a free port, then stops accepting on close', async () => {
    const app = new Hono().get('/', (c) => c.text('hi'));
    const server = await listenHttp(app, { host: '127.0.0.1', port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe('hi');
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });

  it('forceClose ends a request in flight so close can finish', async () => {
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const app = new Hono().get('/slow', async () => {
      entered();
      return new Promise<Response>(() => {});
    });
    const server = await listenHttp(app, { host: '127.0.0.1', port: 0 });
    const request = fetch(`http://127.0.0.1:${server.port}/slow`).catch((error: unknown) => error);
    await inFlight;
    const closed = server.close();
    server.forceClose();
    await closed;
    expect(await request).toBeInstanceOf(Error);
  });

  it('rejects when the address is taken', async () => {
    const first = await listenHttp(new Hono(), { host: '127.0.0.1', port: 0 });
    try {
      await expect(listenHttp(new Hono(), { host: '127.0.0.1', port: first.port })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await first.close();
    }
  });

  it('closes a client that never finishes its request head (slowloris), and keeps serving others', async () => {
    const app = new Hono().get('/', (c) => c.text('hi'));
    const server = await listenHttp(
      app,
      { host: '127.0.0.1', port: 0 },
      { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 100 },
    );
    try {
      const slow = net.connect(server.port, '127.0.0.1');
      const answer: Buffer[] = [];
      slow.on('data', (b) => answer.push(b));
      const ended = new Promise<number>((resolve) => {
        const started = Date.now();
        slow.on('close', () => resolve(Date.now() - started));
        slow.on('error', () => {});
      });
      slow.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      // One more byte now and then: each is progress, none completes the head.
      const drip = setInterval(() => slow.write('a'), 50);
      expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe('hi');
      const after = await ended;
      clearInterval(drip);
      expect(after).toBeLessThan(10_000);
      expect(Buffer.concat(answer).toString()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });
});
