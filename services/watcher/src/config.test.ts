import { describe, expect, it } from 'vitest';
import { parseWatcherConfig } from './config.js';

describe('the watcher configuration schema', () => {
  it('fills in the defaults', () => {
    const parsed = parseWatcherConfig({ cluster: 'prod-eu' });
    expect(parsed).toEqual({
      ok: true,
      config: {
        cluster: 'prod-eu',
        kubernetesServicePort: '443',
        listen: { host: '0.0.0.0', port: 9464 },
        heartbeatIntervalMs: 5000,
        heartbeatTtlMs: 30_000,
        watchIdleTimeoutMs: 120_000,
        apiGraceMs: 30_000,
        resyncIntervalMs: 600_000,
        pollIntervalMs: 2000,
        drainTimeoutMs: 10_000,
        leaderElect: false,
        leaseName: 'podgate-watcher',
        logLevel: 'info',
      },
    });
  });

  it('lists every problem, each naming its flag', () => {
    const parsed = parseWatcherConfig({
      cluster: 'a/b',
      listen: 'nope',
      heartbeatIntervalMs: '10s',
      heartbeatTtlMs: '5s',
      drainTimeoutMs: 'never',
      logLevel: 'loud' as 'info',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const lines = parsed.message.split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^--cluster: invalid cluster name/),
      expect.stringMatching(/^--listen: expected HOST:PORT/),
      expect.stringMatching(/^--drain-timeout: expected a duration/),
      expect.stringMatching(/loud|fatal/),
    ]);
  });

  it('refuses a heartbeat TTL not longer than the interval', () => {
    const parsed = parseWatcherConfig({ cluster: 'c', heartbeatIntervalMs: '10s', heartbeatTtlMs: '5s' });
    expect(parsed.ok || parsed.message).toBe('--heartbeat-ttl must be longer than --heartbeat-interval');
  });
});
