// The proxy bench's fixed-rate generator (bench/proxy/latency-generator.mjs) measures each
// proxy beside a direct connection in one run: it must give every port its own rate,
// interleaved, and say which samples are whose.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** A server that answers `reply` to a request and closes; counts its connections. */
async function answering(reply: string): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = net.createServer((socket) => {
    n++;
    socket.once('data', () => socket.end(reply));
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n };
}

it('sends RATE connections a second to each port and reports each port’s samples apart', async () => {
  const a = await answering('ok');
  const b = await answering('ok');
  const script = new URL('../bench/proxy/latency-generator.mjs', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [
    script,
    '40',
    '1',
    String(a.port),
    String(b.port),
  ]);
  const out = JSON.parse(stdout) as { samples: number[][]; failures: number[] };
  expect(out.samples).toHaveLength(2);
  expect(out.samples.map((s) => s.length)).toEqual([40, 40]);
  expect(out.failures).toEqual([0, 0]);
  expect([a.connections(), b.connections()]).toEqual([40, 40]);
  for (const s of out.samples) for (const ms of s) expect(ms).toBeGreaterThan(0);
});
