import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { type RedisServer, redisCli, startRedis } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually } from '../store.contract.js';
import { ReadConnection, type ReadConnectionOptions, type ReadError } from './connection.js';
import type { RespValue } from './resp.js';

type Outcome = { err: ReadError | null; reply: RespValue };

function request(conn: ReadConnection, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => conn.send(args, (err, reply) => resolve({ err, reply })));
}

const hget = (conn: ReadConnection, key: string) => request(conn, ['HGETALL', key]);

let redis: RedisServer;
const open: ReadConnection[] = [];
async function connect(options: Partial<ReadConnectionOptions> & { port: number }): Promise<ReadConnection> {
  const conn = await ReadConnection.open({ host: '127.0.0.1', requestTimeoutMs: 1_000, ...options });
  open.push(conn);
  return conn;
}

beforeAll(async () => {
  redis = await startRedis();
  const args = ['MSET'];
  for (let i = 0; i < 50; i++) args.push(`k${i}`, `v${i}`);
  await redisCli(redis.port, args);
  for (let i = 0; i < 50; i++) await redisCli(redis.port, ['HSET', `h${i}`, 'owner', `v${i}`]);
});
afterAll(async () => {
  for (const conn of open) conn.close();
  await redis?.stop();
});

describe('ReadConnection against a real redis-server', () => {
  it('pipelines concurrent requests and answers each with its own reply', async () => {
    const conn = await connect({ port: redis.port });
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => hget(conn, `h${i}`)));
    outcomes.forEach((o, i) => {
      expect(o).toEqual({ err: null, reply: ['owner', `v${i}`] });
    });
    expect(await hget(conn, 'missing')).toEqual({ err: null, reply: [] });
    expect(conn.outstanding).toBe(0);
  });

  it('passes error replies to their request only', async () => {
    const conn = await connect({ port: redis.port });
    const [wrong, right] = await Promise.all([hget(conn, 'k1'), hget(conn, 'h1')]);
    expect(wrong.err).toMatchObject({ code: 'error_reply', message: expect.stringMatching(/^WRONGTYPE/) });
    expect(right).toEqual({ err: null, reply: ['owner', 'v1'] });
  });

  it('sends the commands of one turn in one write, or as soon as flushAfterCommands wait', async () => {
    const writes = (conn: ReadConnection, count: number) => {
      // Counted synchronously: what went to the socket before the turn ended.
      const write = vi.spyOn(net.Socket.prototype, 'write');
      try {
        const outcomes = Array.from({ length: count }, (_, i) => hget(conn, `h${i}`));
        return { during: write.mock.calls.length, outcomes };
      } finally {
        write.mockRestore();
      }
    };
    const bounded = await connect({ port: redis.port, flushAfterCommands: 4 });
    const ten = writes(bounded, 10);
    expect(ten.during).toBe(2); // after the 4th and the 8th; the last 2 at the end of the turn
    (await Promise.all(ten.outcomes)).forEach((o, i) => {
      expect(o).toEqual({ err: null, reply: ['owner', `v${i}`] });
    });
    const unbounded = await connect({ port: redis.port });
    const all = writes(unbounded, 10);
    expect(all.during).toBe(0);
    expect((await Promise.all(all.outcomes)).map((o) => o.reply)).toEqual(
      Array.from({ length: 10 }, (_, i) => ['owner', `v${i}`]),
    );
  });

  it('selects the database it was given', async () => {
    await redisCli(redis.port, ['-n', '3', 'HSET', 'only-in-3', 'f', 'x']);
    const db3 = await connect({ port: redis.port, db: 3 });
    const db0 = await connect({ port: redis.port });
    expect((await hget(db3, 'only-in-3')).reply).toEqual(['f', 'x']);
    expect((await hget(db0, 'only-in-3')).reply).toEqual([]);
  });

  it('authenticates with a password (and user), and refuses to open with a wrong or missing one', async () => {
    const server = await startRedis({ password: 'p@ss word' });
    try {
      await redisCli(server.port, ['HSET', 'h', 'f', 'v'], 'p@ss word');
      const plain = await connect({ port: server.port, password: 'p@ss word' });
      expect((await hget(plain, 'h')).reply).toEqual(['f', 'v']);
      const named = await connect({ port: server.port, username: 'default', password: 'p@ss word' });
      expect((await hget(named, 'h')).reply).toEqual(['f', 'v']);
      await expect(connect({ port: server.port, password: 'nope' })).rejects.toMatchObject({
        code: 'error_reply',
        message: expect.stringMatching(/AUTH failed: WRONGPASS/),
      });
      await expect(connect({ port: server.port })).rejects.toMatchObject({
        message: expect.stringMatching(/PING failed: NOAUTH/),
      });
    } finally {
      await server.stop();
    }
  });

  it('refuses to open when nothing listens', async () => {
    const server = await startRedis();
    await server.stop();
    await expect(connect({ port: server.port })).rejects.toMatchObject({ code: 'connection_lost' });
  });

  it('times out requests to a paused server at their deadline, then gives every later request its own reply', async () => {
    const server = await startRedis();
    try {
      for (let i = 0; i < 20; i++) await redisCli(server.port, ['HSET', `h${i}`, 'owner', `v${i}`]);
      const conn = await connect({ port: server.port, requestTimeoutMs: 100 });
      server.pause();
      const started = performance.now();
      const stalled = await Promise.all(Array.from({ length: 20 }, (_, i) => hget(conn, `h${i}`)));
      const elapsed = performance.now() - started;
      for (const o of stalled) expect(o.err?.code).toBe('timeout');
      expect(elapsed).toBeGreaterThanOrEqual(95);
      expect(elapsed).toBeLessThan(400);
      expect(conn.outstanding).toBe(20); // still owed their replies
      server.resume();
      // Requests sent right away queue behind the 20 stale replies; each must get its own.
      const order = Array.from({ length: 20 }, (_, i) => 19 - i);
      const fresh = await Promise.all(order.map((i) => hget(conn, `h${i}`)));
      fresh.forEach((o, k) => {
        expect(o).toEqual({ err: null, reply: ['owner', `v${order[k]}`] });
      });
      expect(conn.outstanding).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('refuses requests beyond its outstanding bound at once', async () => {
    const server = await startRedis();
    try {
      const conn = await connect({ port: server.port, requestTimeoutMs: 100, maxOutstanding: 3 });
      server.pause();
      const inFlight = [hget(conn, 'a'), hget(conn, 'b'), hget(conn, 'c')];
      expect((await hget(conn, 'd')).err?.code).toBe('queue_full');
      for (const o of await Promise.all(inFlight)) expect(o.err?.code).toBe('timeout');
      // Timed-out requests still hold their place until Redis answers them.
      expect((await hget(conn, 'e')).err?.code).toBe('queue_full');
      server.resume();
      await eventually(async () => {
        expect((await hget(conn, 'h')).err).toBeNull();
      });
    } finally {
      await server.stop();
    }
  });

  it('fails outstanding requests when the server goes away and reconnects when it is back', async () => {
    const server = await startRedis();
    let restarted: RedisServer | undefined;
    try {
      const errors: unknown[] = [];
      const conn = await connect({
        port: server.port,
        retryDelayMs: () => 20,
        onError: (err) => errors.push(err),
      });
      await server.stop();
      await eventually(async () => {
        expect((await hget(conn, 'h')).err?.code).toBe('not_connected');
      });
      restarted = await startRedis({ port: server.port });
      await redisCli(restarted.port, ['HSET', 'h', 'after', 'restart']);
      await eventually(async () => {
        expect(await hget(conn, 'h')).toEqual({ err: null, reply: ['after', 'restart'] });
      });
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await restarted?.stop();
      await server.stop();
    }
  });

  it('drops a connection whose replies stall past the deadline, and recovers after', async () => {
    const server = await startRedis();
    try {
      await redisCli(server.port, ['HSET', 'h', 'f', 'v']);
      const conn = await connect({
        port: server.port,
        requestTimeoutMs: 50,
        stallTimeoutMs: 100,
        connectTimeoutMs: 200,
        retryDelayMs: () => 20,
      });
      server.pause();
      expect((await hget(conn, 'h')).err?.code).toBe('timeout');
      await eventually(async () => {
        expect(conn.isReady).toBe(false);
        expect(conn.outstanding).toBe(0);
      });
      server.resume();
      await eventually(async () => {
        expect(await hget(conn, 'h')).toEqual({ err: null, reply: ['f', 'v'] });
      });
    } finally {
      await server.stop();
    }
  });

  it('fails outstanding requests at once when the socket drops', async () => {
    const fake = net.createServer((socket) => {
      socket.on('data', (data) => {
        if (data.toString('latin1').includes('PING')) socket.write('+PONG\r\n');
        else socket.destroy();
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const port = (fake.address() as net.AddressInfo).port;
      const conn = await connect({ port, requestTimeoutMs: 5_000, retryDelayMs: () => 10 });
      const started = performance.now();
      const outcomes = await Promise.all([hget(conn, 'a'), hget(conn, 'b')]);
      for (const o of outcomes) expect(o.err?.code).toBe('connection_lost');
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      fake.close();
    }
  });

  it('fails requests with protocol_error when the peer does not speak RESP2, and reconnects', async () => {
    let connections = 0;
    const fake = net.createServer((socket) => {
      connections++;
      socket.on('data', (data) => {
        const text = data.toString('latin1');
        // Handshake PING answered properly; anything else gets a RESP3 map.
        socket.write(text.includes('PING') ? '+PONG\r\n' : '%1\r\n+a\r\n+b\r\n');
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const port = (fake.address() as net.AddressInfo).port;
      const conn = await connect({ port, retryDelayMs: () => 10 });
      expect((await hget(conn, 'x')).err?.code).toBe('protocol_error');
      await eventually(async () => {
        expect(conn.isReady).toBe(true);
        expect(connections).toBe(2);
      });
    } finally {
      fake.close();
    }
  });

  it('speaks TLS (here through a TLS terminator in front of redis-server)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podgate-tls-'));
    try {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]);
      const cert = readFileSync(join(dir, 'cert.pem'));
      const terminator = tls.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (socket) => {
        const upstream = net.connect(redis.port, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
      try {
        const port = (terminator.address() as net.AddressInfo).port;
        await expect(
          connect({ port, tls: { servername: 'localhost' }, connectTimeoutMs: 2_000 }),
        ).rejects.toThrow(/self-signed|certificate/);
        const conn = await connect({ port, tls: { ca: cert, servername: 'localhost' } });
        expect((await hget(conn, 'h2')).reply).toEqual(['owner', 'v2']);
      } finally {
        terminator.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
