// The raw layer on its own (raw-tcp.ts + raw-splice.ts), on real loopback sockets: what the
// proxy holds for a peer that does not read, the FIN passed on each way, a reset passed on as
// a reset, and the idle deadline on the shared wheel.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawSplice } from './raw-splice.js';
import {
  type RawServer,
  type RawTcp,
  rawConnect,
  rawListen,
  rawTcpAvailable,
  WRITE_HIGH_WATER,
} from './raw-tcp.js';
import type { SpliceResult } from './splice.js';
import { createTimerWheel } from './timer-wheel.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

interface Rig {
  client: net.Socket;
  upstreamSide: net.Socket;
  proxyClient: RawTcp;
  proxyUpstream: RawTcp;
  result: Promise<SpliceResult>;
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A client -> raw listener -> raw connect -> upstream server, spliced. */
async function rig(idleTimeoutMs = 10_000): Promise<Rig> {
  const upstreams: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    upstreams.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    for (const s of upstreams) s.destroy();
    server.close();
  });
  const upstreamPort = (server.address() as net.AddressInfo).port;
  const wheel = createTimerWheel(20);
  cleanup.push(() => wheel.stop());
  let resolveResult!: (r: SpliceResult) => void;
  const result = new Promise<SpliceResult>((r) => {
    resolveResult = r;
  });
  let listener!: RawServer;
  const spliced = new Promise<{ proxyClient: RawTcp; proxyUpstream: RawTcp }>((resolve, reject) => {
    listener = rawListen('127.0.0.1', 0, (proxyClient) => {
      rawConnect('127.0.0.1', upstreamPort, (error, proxyUpstream) => {
        if (error !== null) return reject(new Error(error));
        rawSplice(proxyClient, proxyUpstream, {
          wheel,
          idleTimeoutMs,
          head: [],
          clientEnded: false,
          done: resolveResult,
        });
        resolve({ proxyClient, proxyUpstream });
      });
    });
  });
  cleanup.push(() => listener.close());
  const client = net.connect({ host: '127.0.0.1', port: listener.address().port, allowHalfOpen: true });
  client.on('error', () => {});
  cleanup.push(() => client.destroy());
  const { proxyClient, proxyUpstream } = await spliced;
  while (upstreams.length === 0) await sleep(5);
  return { client, upstreamSide: upstreams[0]!, proxyClient, proxyUpstream, result };
}

describe.skipIf(!rawTcpAvailable())('raw splice', () => {
  it('a client that does not read: the proxy holds at most its high-water mark, the rest stays with the sender', async () => {
    const r = await rig();
    r.client.pause();
    const payload = Buffer.alloc(64 * MiB, 0x61);
    r.upstreamSide.write(payload);
    await sleep(500);
    // Bytes written to the client and not yet taken by the kernel: at most the mark plus one read.
    expect(r.proxyClient.pending).toBeLessThanOrEqual(WRITE_HIGH_WATER + 64 * 1024);
    // The kernel buffers a few MiB on each hop; the sender keeps the rest queued.
    expect(r.upstreamSide.writableLength).toBeGreaterThan(24 * MiB);
    // Reading again: everything arrives, in full.
    let got = 0;
    r.client.on('data', (d: Buffer) => {
      got += d.length;
    });
    r.client.resume();
    r.upstreamSide.end();
    await new Promise<void>((resolve) => r.client.once('end', () => resolve()));
    expect(got).toBe(payload.length);
    r.client.end();
    const result = await r.result;
    expect(result).toMatchObject({ end: 'closed', bytesFromUpstream: payload.length, bytesFromClient: 0 });
  });

  it('a bulk transfer read into each socket’s own buffer arrives byte for byte through a reader that stalls', async () => {
    const r = await rig();
    // Past OWN_BUFFER_AFTER the proxy reads into one reused buffer: a write still queued when
    // the next read came would corrupt the stream.
    const payload = Buffer.alloc(32 * MiB);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    const expected = createHash('sha256').update(payload).digest('hex');
    const hash = createHash('sha256');
    let got = 0;
    r.client.on('data', (d: Buffer) => {
      hash.update(d);
      got += d.length;
      // Stall now and then, so the proxy's writes to the client queue up.
      if (got % (4 * MiB) < d.length) {
        r.client.pause();
        setTimeout(() => r.client.resume(), 150);
      }
    });
    r.upstreamSide.end(payload);
    await new Promise<void>((resolve) => r.client.once('end', () => resolve()));
    expect(got).toBe(payload.length);
    expect(hash.digest('hex')).toBe(expected);
    expect(r.proxyUpstream.readBuffer).not.toBeNull();
    r.client.end();
    expect(await r.result).toMatchObject({ end: 'closed', bytesFromUpstream: payload.length });
  });

  it('half-close both ways: each FIN is passed on while the other direction keeps flowing', async () => {
    const r = await rig();
    const atUpstream: Buffer[] = [];
    const atClient: Buffer[] = [];
    r.upstreamSide.on('data', (d: Buffer) => atUpstream.push(d));
    r.client.on('data', (d: Buffer) => atClient.push(d));
    r.client.end('request, then FIN');
    await new Promise<void>((resolve) => r.upstreamSide.once('end', () => resolve()));
    r.upstreamSide.end('answer after the client FIN');
    await new Promise<void>((resolve) => r.client.once('end', () => resolve()));
    expect(Buffer.concat(atUpstream).toString()).toBe('request, then FIN');
    expect(Buffer.concat(atClient).toString()).toBe('answer after the client FIN');
    expect(await r.result).toMatchObject({ end: 'closed', bytesFromClient: 17, bytesFromUpstream: 27 });
  });

  it('an upstream reset reaches the client as a reset, and both proxy sockets are closed', async () => {
    const r = await rig();
    const clientError = new Promise<string>((resolve) => r.client.once('error', (e) => resolve(e.message)));
    r.upstreamSide.write('partial');
    await sleep(50);
    r.upstreamSide.resetAndDestroy();
    expect(await clientError).toMatch(/ECONNRESET/);
    expect(await r.result).toMatchObject({ end: 'upstream_error' });
    expect(r.proxyClient.closed && r.proxyUpstream.closed).toBe(true);
  });

  it('no byte either way for the idle timeout closes both', async () => {
    const r = await rig(150);
    const started = performance.now();
    const ended = new Promise<void>((resolve) => r.client.once('end', () => resolve()));
    r.client.resume();
    expect(await r.result).toMatchObject({ end: 'idle_timeout' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await ended;
  });
});
