// Interoperability with a real HAProxy in TCP mode: `send-proxy` (v1) and `send-proxy-v2`
// (with CRC32C and unique-id TLVs) in front of servers that read the header with
// readProxyHeader. The parsed source must be the test client's own bound address and port.
import { connect, type Socket } from 'node:net';
import {
  findHaproxy,
  freePort,
  haproxyVersion,
  hasIpv6Loopback,
  type RunningHaproxy,
  startHaproxy,
} from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadProxyHeaderResult } from './read.js';
import {
  type Accepted,
  type ReaderServer,
  readToEnd,
  startReaderServer,
} from './test-support/reader-server.js';

const bin = findHaproxy();
const title =
  bin === null ? 'real HAProxy (SKIPPED: no haproxy executable on the PATH)' : `real ${haproxyVersion(bin)}`;
const ipv6 = await hasIpv6Loopback();

interface Setup {
  haproxy: RunningHaproxy;
  v1: ReaderServer;
  v2: ReaderServer;
  checks: ReaderServer;
  v1Port: number;
  v2Port: number;
}

async function setUp(haproxyBin: string): Promise<Setup> {
  const options = { deadlineMs: 5000 };
  const [v1, v2, checks] = await Promise.all([
    startReaderServer(options),
    startReaderServer(options),
    startReaderServer(options),
  ]);
  const v1Port = await freePort();
  const v2Port = await freePort();
  const bind = (port: number) => `  bind 127.0.0.1:${port}\n${ipv6 ? `  bind [::1]:${port}\n` : ''}`;
  const config = [
    'global',
    '  maxconn 200',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    'frontend fe_v1',
    bind(v1Port),
    '  default_backend be_v1',
    'backend be_v1',
    `  server s1 127.0.0.1:${v1.port} send-proxy`,
    'frontend fe_v2',
    bind(v2Port),
    '  unique-id-format %{+X}o\\ %ci:%cp',
    '  default_backend be_v2',
    'backend be_v2',
    `  server s2 127.0.0.1:${v2.port} send-proxy-v2 proxy-v2-options crc32c,unique-id`,
    // Health checks with the PROXY header: HAProxy sends them as v2 LOCAL.
    'backend be_checks',
    `  server s3 127.0.0.1:${checks.port} send-proxy-v2 proxy-v2-options crc32c check check-send-proxy inter 200`,
    '',
  ].join('\n');
  try {
    const haproxy = await startHaproxy(haproxyBin, config);
    return { haproxy, v1, v2, checks, v1Port, v2Port };
  } catch (error) {
    await Promise.all([v1.close(), v2.close(), checks.close()]);
    throw error;
  }
}

/** Connect through HAProxy from `localAddress`, send `payload`, end. */
async function through(host: string, port: number, localAddress: string, payload: Buffer) {
  const socket: Socket = connect({ host, port, localAddress });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const localPort = socket.localPort!;
  socket.end(payload);
  return { socket, localPort };
}

async function completed(
  accepted: Accepted,
): Promise<Extract<ReadProxyHeaderResult, { status: 'complete' }>> {
  const result = await accepted.result;
  if (result.status !== 'complete') throw new Error(JSON.stringify(result));
  return result;
}

describe.skipIf(bin === null)(title, () => {
  let setup: Setup;

  beforeAll(async () => {
    // Ports are picked free but may be taken before HAProxy binds them: try again.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        setup = await setUp(bin!);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  });

  afterAll(async () => {
    if (setup === undefined) return;
    await setup.haproxy.stop();
    await Promise.all([setup.v1.close(), setup.v2.close(), setup.checks.close()]);
  });

  const cases = [
    { name: 'send-proxy, IPv4', version: 1, host: '127.0.0.1', local: '127.0.0.2', family: 'ipv4' },
    { name: 'send-proxy-v2, IPv4', version: 2, host: '127.0.0.1', local: '127.0.0.2', family: 'ipv4' },
    { name: 'send-proxy, IPv6', version: 1, host: '::1', local: '::1', family: 'ipv6' },
    { name: 'send-proxy-v2, IPv6', version: 2, host: '::1', local: '::1', family: 'ipv6' },
  ] as const;

  for (const c of cases) {
    it.skipIf(c.family === 'ipv6' && !ipv6)(
      `${c.name}: the source is the client's bound address`,
      async () => {
        const server = c.version === 1 ? setup.v1 : setup.v2;
        const port = c.version === 1 ? setup.v1Port : setup.v2Port;
        const payload = Buffer.from(`payload from ${c.local}\r\n`);
        const { localPort } = await through(c.host, port, c.local, payload);
        const accepted = await server.accepted();
        const result = await completed(accepted);
        expect(result.header).toMatchObject({
          version: c.version,
          command: 'proxy',
          addresses: {
            family: c.family,
            transport: 'stream',
            source: { address: c.local, port: localPort },
            destination: { address: c.host, port },
          },
          client: { use: 'header', address: c.local, port: localPort },
        });
        expect(Buffer.concat([result.payload, await readToEnd(accepted.socket)])).toEqual(payload);
        if (c.version === 2) {
          // Its CRC32C was checked by the parser; the unique id is "%{+X}o %ci:%cp".
          const types = result.header.tlvs.map((t) => t.type);
          expect(types).toContain(0x03);
          const uniqueId = result.header.tlvs.find((t) => t.type === 0x05)?.value.toString();
          if (c.family === 'ipv4') {
            expect(uniqueId).toBe(`7F000002:${localPort.toString(16).toUpperCase().padStart(4, '0')}`);
          } else {
            expect(uniqueId).toMatch(/^0{31}1:[0-9A-F]{4}$/);
          }
        }
        accepted.socket.destroy();
      },
    );
  }

  it('health checks arrive as v2 LOCAL: use the socket address', async () => {
    const accepted = await setup.checks.accepted();
    const result = await completed(accepted);
    expect(result.header).toMatchObject({
      version: 2,
      command: 'local',
      addresses: null,
      client: { use: 'socket', reason: 'v2-local' },
    });
    expect(result.header.tlvs.map((t) => t.type)).toEqual([0x03]);
    accepted.socket.destroy();
  });
});
