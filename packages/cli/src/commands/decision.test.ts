// `podgate decision` through the CLI: its flags and environment reach the service, it serves
// until told to stop, and bad flags or configuration are refused with the flag named. (The
// service itself is tested in services/decision; against Redis and nginx in test/.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { parseDecisionFlags } from './decision-flags.js';

const config = new URL('../../../../examples/podgate.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'decision-cli-'));
const tokens = join(dir, 'tokens');
beforeAll(() => writeFileSync(tokens, 'cli-test-token-0123456789\n'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('podgate decision flags', () => {
  it('takes defaults, flags over the environment, and the store flags', () => {
    const parsed = parseDecisionFlags(
      {
        config: [config],
        'token-file': tokens,
        cluster: ['east', 'west'],
        'trusted-proxies': ['10.0.0.0/8', '::1'],
      },
      { REDIS_URL: 'redis://127.0.0.1:1', PODGATE_CLUSTER: 'ignored', LOG_LEVEL: 'warn' },
    );
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.config).toMatchObject({
      configFiles: [config],
      tokenFile: tokens,
      redisUrl: 'redis://127.0.0.1:1',
      clusters: ['east', 'west'],
      listen: { host: '0.0.0.0', port: 9466 },
      maxBodyBytes: 1048576,
      lookupTimeoutMs: 200,
      logLevel: 'warn',
      insecureNoAuth: false,
    });
    expect(parsed.config.trustedProxies?.cidrs).toEqual(['10.0.0.0/8', '::1/128']);
  });

  it('consults PODGATE_CLUSTER, else the cluster named default', () => {
    const fromEnv = parseDecisionFlags(
      { config: [config], 'insecure-no-auth': true },
      { PODGATE_CLUSTER: 'c1' },
    );
    expect(fromEnv.ok && fromEnv.config.clusters).toEqual(['c1']);
    const fallback = parseDecisionFlags({ config: [config], 'insecure-no-auth': true }, {});
    expect(fallback.ok && fallback.config.clusters).toEqual(['default']);
  });

  it.each([
    [{}, /--config FILE is required[\s\S]*--token-file FILE is required/],
    [{ config: [config], 'token-file': tokens, 'insecure-no-auth': true }, /not both/],
    [
      { config: [config], 'token-file': tokens, 'trusted-proxies': ['10.0.0.0/40'] },
      /--trusted-proxies: not a CIDR/,
    ],
    [{ config: [config], 'token-file': tokens, 'max-body-size': 'huge' }, /--max-body-size/],
    [{ config: [config], 'token-file': tokens, 'lookup-timeout': '0ms' }, /--lookup-timeout/],
    [{ config: [config], 'token-file': tokens, listen: 'x' }, /--listen: expected HOST:PORT/],
    [{ config: [config], 'token-file': tokens, cluster: ['a/b'] }, /--cluster: invalid cluster name/],
    [{ config: [config], 'token-file': tokens, redis: 'http://x' }, /--redis: expected redis:\/\//],
  ])('refuses %j', (values, message) => {
    const parsed = parseDecisionFlags(values, {});
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('podgate decision (via the CLI)', () => {
  it('serves on the embedded store until told to stop, and exits 0', async () => {
    const { io, captured, stop } = captureIo();
    const running = main(
      [
        'decision',
        '--config',
        config,
        '--token-file',
        tokens,
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'silent',
      ],
      io,
    );
    await new Promise((r) => setTimeout(r, 300));
    stop('SIGTERM');
    expect(await running).toBe(0);
    expect(captured.stderr).toBe('');
  });

  it('exits 2 on an unknown flag, 1 on a configuration that does not load or an unreadable token file', async () => {
    const a = captureIo();
    expect(await main(['decision', '--no-such-flag'], a.io)).toBe(2);
    expect(a.captured.stderr).toMatch(/no-such-flag/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kind: CloudEndpoint\n');
    const b = captureIo();
    expect(
      await main(['decision', '--config', bad, '--insecure-no-auth', '--log-level', 'silent'], b.io),
    ).toBe(1);
    expect(b.captured.stderr).toMatch(/bad\.yaml:\d+:\d+: error:/);
    const c = captureIo();
    const missing = join(dir, 'missing-tokens');
    expect(
      await main(['decision', '--config', config, '--token-file', missing, '--log-level', 'silent'], c.io),
    ).toBe(1);
    expect(c.captured.stderr).toMatch(/missing-tokens: cannot read the token file/);
  });

  it('exits 1 naming the store when it cannot be reached', async () => {
    const { io, captured } = captureIo();
    const code = await main(
      [
        'decision',
        '--config',
        config,
        '--insecure-no-auth',
        '--redis',
        'redis://u:pw@127.0.0.1:1',
        '--log-level',
        'silent',
      ],
      io,
    );
    expect(code).toBe(1);
    expect(captured.stderr).toMatch(/^podgate decision: cannot connect to Redis at 127\.0\.0\.1:1/);
    expect(captured.stderr).not.toContain('pw');
  });
});
