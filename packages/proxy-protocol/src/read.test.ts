// readProxyHeader over real loopback sockets: segments split anywhere, slow senders,
// oversized headers, payload in the header's segment, and nothing left behind.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeProxyHeaderV1, encodeProxyHeaderV2 } from './encode.js';
import { parseProxyHeader } from './parser.js';
import { readProxyHeader } from './read.js';
import {
  type Accepted,
  type ReaderServer,
  readToEnd,
  startReaderServer,
} from './test-support/reader-server.js';

const INPUT = {
  source: { address: '10.1.2.3', port: 40000 },
  destination: { address: '10.0.0.1', port: 443 },
};
const V1 = encodeProxyHeaderV1(INPUT);
const V2 = encodeProxyHeaderV2(
  { source: { address: '2001:db8::7', port: 51000 }, destination: { address: '2001:db8::1', port: 443 } },
  { tlvs: [{ type: 0x05, value: Buffer.from('conn-1') }], crc32c: true },
);
const PAYLOAD = Buffer.from('GET / HTTP/1.1\r\nHost: ledger\r\n\r\n');

let server: ReaderServer | undefined;
const clients = new Set<Socket>();
afterEach(async () => {
  for (const client of clients) client.destroy();
  clients.clear();
  await server?.close();
  server = undefined;
});

async function serve(
  options: Parameters<typeof startReaderServer>[0],
  serverOptions: Parameters<typeof startReaderServer>[2] = {},
): Promise<ReaderServer> {
  server = await startReaderServer(options, '127.0.0.1', serverOptions);
  return server;
}

async function client(s: ReaderServer): Promise<{ socket: Socket; accepted: Accepted }> {
  const socket = connect({ host: s.host, port: s.port, noDelay: true });
  clients.add(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, accepted: await s.accepted() };
}

/** Wait until the server side has read `count` bytes, so the next write is its own read. */
async function untilRead(socket: Socket, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (socket.bytesRead < count) {
    if (Date.now() > deadline) throw new Error(`server read ${socket.bytesRead} of ${count} bytes`);
    await sleep(1);
  }
}

async function expectNothingLeft(accepted: Accepted): Promise<void> {
  expect(await accepted.leftovers).toEqual({
    listeners: { data: 0, end: 0, close: 0, error: 0, readable: 0 },
    pendingTimers: 0,
    paused: true,
  });
}

describe.each([
  ['v1', V1],
  ['v2', V2],
])('readProxyHeader, %s', (_, header) => {
  const whole = parseProxyHeader(header);
  if (whole.status !== 'complete') throw new Error('test header does not parse');

  it('reads a header split into two segments at every byte', async () => {
    const s = await serve({ deadlineMs: 5000 });
    for (let at = 1; at < header.length; at++) {
      const { socket, accepted } = await client(s);
      socket.write(header.subarray(0, at));
      await untilRead(accepted.socket, at);
      socket.end(Buffer.concat([header.subarray(at), PAYLOAD]));
      const result = await accepted.result;
      if (result.status !== 'complete') throw new Error(`split at ${at}: ${JSON.stringify(result)}`);
      expect(result.header).toEqual(whole.header);
      const rest = await readToEnd(accepted.socket);
      expect(Buffer.concat([result.payload, rest])).toEqual(PAYLOAD);
      await expectNothingLeft(accepted);
    }
  });

  it('reads a header that arrives one byte a segment', async () => {
    const s = await serve({ deadlineMs: 10_000 });
    const { socket, accepted } = await client(s);
    for (let i = 0; i < header.length; i++) {
      socket.write(header.subarray(i, i + 1));
      await untilRead(accepted.socket, i + 1);
    }
    const result = await accepted.result;
    expect(result).toMatchObject({ status: 'complete', header: whole.header, bytesRead: header.length });
    await expectNothingLeft(accepted);
  });

  it('returns payload bytes that came in the header segment, and loses none sent later', async () => {
    const s = await serve({ deadlineMs: 5000 });
    const { socket, accepted } = await client(s);
    socket.write(Buffer.concat([header, PAYLOAD]));
    const result = await accepted.result;
    expect(result).toMatchObject({ status: 'complete', payload: PAYLOAD });
    await expectNothingLeft(accepted);
    // The socket is paused, not drained: what the client sends next waits for the caller.
    socket.end('second write');
    await sleep(50);
    expect((await readToEnd(accepted.socket)).toString()).toBe('second write');
  });
});

describe('readProxyHeader and paused sockets', () => {
  it('reads from a socket accepted with pauseOnConnect', async () => {
    const s = await serve({ deadlineMs: 2000 }, { pauseOnConnect: true });
    const { socket, accepted } = await client(s);
    socket.write(Buffer.concat([V2, PAYLOAD]));
    expect(await accepted.result).toMatchObject({ status: 'complete', payload: PAYLOAD });
    await expectNothingLeft(accepted);
  });
});

describe('readProxyHeader refusals', () => {
  it('times out a sender that stops part way, at the deadline', async () => {
    const s = await serve({ deadlineMs: 300 });
    const { socket, accepted } = await client(s);
    socket.write(V2.subarray(0, 10));
    const result = await accepted.result;
    const elapsed = performance.now() - accepted.startedAt;
    expect(result).toMatchObject({ status: 'refused', code: 'timeout', bytesRead: 10 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
    await expectNothingLeft(accepted);
  });

  it('times out a trickling sender at the deadline: new bytes do not extend it', async () => {
    const s = await serve({ deadlineMs: 300 });
    const { socket, accepted } = await client(s);
    let stop = false;
    const trickle = (async () => {
      socket.write('PROXY UNKNOWN ');
      while (!stop) {
        socket.write('x');
        await sleep(20);
      }
    })();
    const result = await accepted.result;
    stop = true;
    await trickle;
    expect(result).toMatchObject({ status: 'refused', code: 'timeout' });
    expect(performance.now() - accepted.startedAt).toBeLessThan(3000);
    await expectNothingLeft(accepted);
  });

  it('refuses a v2 length over maxBytes at once, without waiting for the bytes', async () => {
    const s = await serve({ deadlineMs: 5000, maxBytes: 100 });
    const { socket, accepted } = await client(s);
    const big = encodeProxyHeaderV2(INPUT, { tlvs: [{ type: 0x04, value: Buffer.alloc(200) }] });
    socket.write(big.subarray(0, 16));
    const result = await accepted.result;
    expect(result).toMatchObject({ status: 'refused', code: 'v2_header_too_long', bytesRead: 16 });
    expect(performance.now() - accepted.startedAt).toBeLessThan(2000);
    await expectNothingLeft(accepted);
  });

  it('refuses a v1 line that has no CRLF in 107 bytes', async () => {
    const s = await serve({ deadlineMs: 5000 });
    const { socket, accepted } = await client(s);
    socket.write(`PROXY UNKNOWN ${'x'.repeat(200)}`);
    expect(await accepted.result).toMatchObject({ status: 'refused', code: 'v1_line_too_long' });
    await expectNothingLeft(accepted);
  });

  it('refuses a client that speaks HTTP where a header is required', async () => {
    const s = await serve({ deadlineMs: 5000 });
    const { socket, accepted } = await client(s);
    socket.write(PAYLOAD);
    expect(await accepted.result).toMatchObject({ status: 'refused', code: 'not_proxy_protocol' });
    await expectNothingLeft(accepted);
  });

  it('answers closed when the peer ends part way', async () => {
    const s = await serve({ deadlineMs: 5000 });
    const { socket, accepted } = await client(s);
    socket.end(V1.subarray(0, 20));
    expect(await accepted.result).toMatchObject({ status: 'refused', code: 'closed', bytesRead: 20 });
    await expectNothingLeft(accepted);
  });

  it('answers socket_error or closed when the peer resets', async () => {
    const s = await serve({ deadlineMs: 5000 });
    const { socket, accepted } = await client(s);
    socket.write(V1.subarray(0, 5));
    await untilRead(accepted.socket, 5);
    socket.resetAndDestroy();
    const result = await accepted.result;
    if (result.status !== 'refused') throw new Error(JSON.stringify(result));
    // Which one depends on whether the RST is read as an error or the close comes first.
    expect(['socket_error', 'closed']).toContain(result.code);
    await expectNothingLeft(accepted);
  });

  it('answers aborted when the signal fires, and at once when it already has', async () => {
    const controller = new AbortController();
    const s = await serve({ deadlineMs: 5000, signal: controller.signal });
    const { accepted } = await client(s);
    setTimeout(() => controller.abort(), 20);
    expect(await accepted.result).toMatchObject({ status: 'refused', code: 'aborted' });
    await expectNothingLeft(accepted);
    const second = await client(s);
    expect(await second.accepted.result).toMatchObject({ status: 'refused', code: 'aborted', bytesRead: 0 });
    await expectNothingLeft(second.accepted);
  });

  it('throws invalid_options for a bad deadline or a socket with an encoding', async () => {
    const s = await serve({ deadlineMs: 5000 });
    const { socket } = await client(s);
    expect(() => readProxyHeader(socket, { deadlineMs: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
    expect(() => readProxyHeader(socket, { deadlineMs: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
    socket.setEncoding('utf8');
    expect(() => readProxyHeader(socket, { deadlineMs: 100 })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});
