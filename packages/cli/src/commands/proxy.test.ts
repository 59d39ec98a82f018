// `podgate proxy` through the CLI: flags reach the service, it serves, and the stop signal ends
// it cleanly; bad flags are refused naming the flag (the proxy's behaviour is tested in
// services/proxy).
import net from 'node:net';
import { captureIo, freePort, startRedis } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const config = new URL('../../../../examples/podgate.yaml', import.meta.url).pathname;
const LEDGER = 'tcp://ledger.payments:5432';

describe('podgate proxy (via the CLI)', () => {
  it('serves the configured endpoints on the embedded store until told to stop', async () => {
    const port = await freePort();
    const { io, captured, stop } = captureIo();
    const running = main(
      [
        'proxy',
        '--config',
        config,
        '--bind',
        `${LEDGER}=127.0.0.1:${port}`,
        // The example's other endpoints would listen on their URLs' ports on 0.0.0.0 (80, 8080):
        // taken, or not this user's to take, on many machines.
        '--bind',
        `http://reports.payments=127.0.0.1:${await freePort()}`,
        '--bind',
        `tcp://status.payments:8080=127.0.0.1:${await freePort()}`,
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'silent',
      ],
      io,
    );
    // Listening: a connection is accepted (and refused by the policy: the store is empty).
    const closed = await new Promise<boolean>((resolve) => {
      const tryOnce = () => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
        s.on('error', () => setTimeout(tryOnce, 50));
        s.on('connect', () => s.on('close', () => resolve(true)));
      };
      tryOnce();
    });
    expect(closed).toBe(true);
    stop('SIGTERM');
    expect(await running).toBe(0);
    expect(captured.stderr).toBe('');
  });

  it('--help lists its flags', async () => {
    const { io, captured } = captureIo();
    expect(await main(['proxy', '--help'], io)).toBe(0);
    for (const flag of [
      '--config',
      '--bind',
      '--trusted-proxies',
      '--max-connections',
      '--drain-timeout',
      '--redis',
    ]) {
      expect(captured.stdout).toContain(flag);
    }
  });

  // Flags that are wrong in themselves are bad usage (2); what the configuration says is 1.
  it.each([
    [[], /--config FILE is required/, 2],
    [['--config', config, '--bind', 'tcp://x.y:1'], /--bind: expected ENDPOINT_URL=HOST:PORT/, 2],
    [['--config', config, '--connect-timeout', 'soon'], /--connect-timeout: expected a duration/, 2],
    [['--config', config, '--trusted-proxies', '10.0.0.0/33'], /--trusted-proxies: not a CIDR/, 2],
    [['--config', config, '--max-connections', '0'], /--max-connections: at least 1/, 2],
    [
      ['--config', config, '--bind', 'tcp://nope.payments:1=127.0.0.1:0'],
      /no endpoint in the configuration has this url/,
      1,
    ],
  ] as const)('refuses %j naming what is wrong (exit %s)', async (args, message, code) => {
    const { io, captured } = captureIo();
    expect(await main(['proxy', ...args, '--listen', '127.0.0.1:0'], io)).toBe(code);
    expect(captured.stderr).toMatch(message);
  });

  it('an unknown flag is bad usage (exit 2)', async () => {
    const { io, captured } = captureIo();
    expect(await main(['proxy', '--config', config, '--frobnicate'], io)).toBe(2);
    expect(captured.stderr).toMatch(/frobnicate/);
  });

  it('a store that cannot be reached: exit 1, saying where and why', async () => {
    const redis = await startRedis();
    const url = redis.url;
    await redis.stop();
    const { io, captured } = captureIo();
    expect(await main(['proxy', '--config', config, '--redis', url, '--listen', '127.0.0.1:0'], io)).toBe(1);
    expect(captured.stderr).toMatch(/cannot connect to Redis at 127\.0\.0\.1:\d+: connection refused/);
  });
});
