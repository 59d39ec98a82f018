// The proxy service: reload swaps the configuration for new connections only (open ones keep
// their decision), a bad file keeps the last good one; stop drains open connections up to the
// deadline, then ends them; one JSON log line per connection; /readyz and /metrics.
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import {
  batchedWriter,
  createLogger,
  createRegistry,
  droppedLogLines,
  type Logger,
  type Registry,
} from '@podgate/runtime';
import { memoryLogger } from '@podgate/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerConfig } from '../test/configs.js';
import { exchange, pod, startUpstream, type Upstream } from '../test/harness.js';
import { type ProxyConfig, parseProxyConfig } from './config.js';
import { type ProxyService, startProxyService } from './service.js';

const yaml = (upstreamPort: number, namespace: string) => ledgerConfig(upstreamPort, { namespace });
const LEDGER = 'tcp://ledger.payments:5432';

/** A client connection that stays open: send, read back, close. */
async function openClient(port: number, from: string) {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    closed,
    async echo(text: string): Promise<string> {
      socket.write(text);
      return new Promise((resolve) => socket.once('data', (d) => resolve(d.toString())));
    },
    end: () => socket.end(),
  };
}

describe('proxy service', () => {
  let upstream: Upstream | undefined;
  let service: ProxyService | undefined;
  afterEach(async () => {
    await service?.stop();
    await upstream?.close();
    service = undefined;
  });

  async function start(overrides: Record<string, unknown> = {}, withLogger?: Logger, registry?: Registry) {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'proxy-service-'));
    const file = join(dir, 'podgate.yaml');
    writeFileSync(file, yaml(upstream.port, 'payments'));
    const parsed = parseProxyConfig({
      configFiles: [file],
      binds: [`${LEDGER}=127.0.0.1:0`],
      listen: '127.0.0.1:0',
      drainTimeoutMs: '2s',
      ...overrides,
    });
    if (!parsed.ok) throw new Error(parsed.message);
    const store = new MemoryIdentityStore();
    await store.heartbeat('c', 3_600_000);
    await store.reconcile('c', [
      pod('u1', '127.0.0.2', 'payments', 'worker-a'),
      pod('u2', '127.0.0.3', 'web', 'front'),
    ]);
    const memory = memoryLogger();
    const logger = withLogger ?? memory.logger;
    const lines = memory.lines;
    service = await startProxyService(parsed.config as ProxyConfig, {
      store,
      clusters: ['c'],
      logger,
      ...(registry !== undefined ? { registry } : {}),
    });
    const port = service.listeners()[0]!.port;
    return { file, port, lines, upstreamPort: upstream.port };
  }

  it('reload: new connections get the new configuration, open ones keep theirs; a bad file keeps the last good one', async () => {
    const { file, port, lines, upstreamPort } = await start();
    const open = await openClient(port, '127.0.0.2');
    expect(await open.echo('before')).toBe('before');

    writeFileSync(file, yaml(upstreamPort, 'web'));
    expect(await service!.reload()).toEqual({ applied: true });
    expect((await exchange(port, '127.0.0.2', 'payments now?')).received.length).toBe(0);
    expect((await exchange(port, '127.0.0.3', 'web now')).received.toString()).toBe('web now');
    // The connection accepted under the old configuration keeps its decision.
    expect(await open.echo('still open')).toBe('still open');

    writeFileSync(file, 'kind: NotAThing\n');
    const refused = await service!.reload();
    expect(refused.applied).toBe(false);
    expect(refused.reason).toMatch(/podgate\.yaml:1:7: error: unknown kind 'NotAThing'/);
    expect((await exchange(port, '127.0.0.3', 'web still')).received.toString()).toBe('web still');
    expect(
      lines().some((l) => l.msg === 'configuration reload refused; keeping the last good configuration'),
    ).toBe(true);
    open.end();
    await open.closed;
  });

  it('counts the connection lines its logger drops while stdout is not read, on /metrics', async () => {
    // A buffered logger whose stdout never reads: after a few lines it drops the rest.
    const writer = batchedWriter(() => undefined, 512, 60_000, { maxQueuedBytes: 2_048 });
    const logger = createLogger({ service: 'podgate-proxy', level: 'info', destination: writer });
    const registry = createRegistry();
    const { port } = await start({}, logger, registry);
    for (let i = 0; i < 20; i++) await exchange(port, '127.0.0.3', 'x');
    const dropped = droppedLogLines(logger);
    expect(dropped).toBeGreaterThan(0);
    expect(await registry.metrics()).toContain(`podgate_proxy_log_lines_dropped_total ${dropped}`);
  });

  it('one JSON line per connection, with the decision and its reason', async () => {
    const { port, lines } = await start();
    await exchange(port, '127.0.0.3', 'x');
    const line = lines().find((l) => l.msg === 'connection')!;
    expect(line).toMatchObject({
      endpoint: LEDGER,
      client: { ip: '127.0.0.3', from: 'socket' },
      end: 'denied',
      decision: {
        allowed: false,
        action: 'deny',
        rule: { number: 2 },
        identity: { metadata: { name: 'front', namespace: 'web' }, cluster: 'c' },
      },
    });
  });

  it('stop: stops accepting at once, lets open connections finish up to the drain deadline, then ends them', async () => {
    const { port } = await start({ drainTimeoutMs: '400ms' });
    const open = await openClient(port, '127.0.0.2');
    expect(await open.echo('hi')).toBe('hi');
    const started = performance.now();
    const stopping = service!.stop();
    // No new connections while draining.
    await new Promise((r) => setTimeout(r, 50));
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('ECONNREFUSED');
    // The open connection still works during the drain.
    expect(await open.echo('draining')).toBe('draining');
    await open.closed;
    await stopping;
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(3_000);
    service = undefined;
  });

  it('stop returns as soon as the open connections end', async () => {
    const { port } = await start({ drainTimeoutMs: '10s' });
    const open = await openClient(port, '127.0.0.2');
    expect(await open.echo('hi')).toBe('hi');
    const started = performance.now();
    const stopping = service!.stop();
    setTimeout(() => open.end(), 100);
    await stopping;
    expect(performance.now() - started).toBeLessThan(2_000);
    service = undefined;
  });

  it('refuses a configuration with nothing to serve, or a --bind naming no endpoint', async () => {
    await expect(start({ binds: ['tcp://nope.payments:1=127.0.0.1:0'] })).rejects.toThrow(
      /--bind tcp:\/\/nope.payments:1: no endpoint/,
    );
  });
});
