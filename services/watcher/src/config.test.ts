import { describe, expect, it } from 'vitest';
import { configInput } from './command.js';
import { parseDuration, parseWatcherConfig } from './config.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['250', 250],
    ['5 s', null],
    ['-1s', null],
    ['abc', null],
  ])('%s -> %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('watcher configuration', () => {
  it('takes defaults, and flags over the environment', () => {
    const parsed = parseWatcherConfig(
      configInput({ cluster: 'prod-eu' }, { PODGATE_CLUSTER: 'ignored', REDIS_URL: 'redis://127.0.0.1:1' }),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config).toMatchObject({
      cluster: 'prod-eu',
      redisUrl: 'redis://127.0.0.1:1',
      listen: { host: '0.0.0.0', port: 9464 },
      heartbeatIntervalMs: 5000,
      heartbeatTtlMs: 30_000,
      watchIdleTimeoutMs: 120_000,
      leaderElect: false,
      logLevel: 'info',
    });
  });

  it('reads the cluster from PODGATE_CLUSTER and repeated annotation prefixes', () => {
    const parsed = parseWatcherConfig(
      configInput(
        { 'annotation-prefix': ['a.example/', 'b.example/'], listen: '[::1]:0' },
        { PODGATE_CLUSTER: 'c1' },
      ),
    );
    expect(parsed.ok && parsed.config.cluster).toBe('c1');
    expect(parsed.ok && parsed.config.annotationPrefixes).toEqual(['a.example/', 'b.example/']);
    expect(parsed.ok && parsed.config.listen).toEqual({ host: '::1', port: 0 });
  });

  it.each([
    [{}, /--cluster \(or PODGATE_CLUSTER\) is required/],
    [{ cluster: 'a/b' }, /--cluster: invalid cluster name/],
    [{ cluster: 'c', 'heartbeat-interval': 'soon' }, /--heartbeat-interval: expected a duration/],
    [{ cluster: 'c', 'heartbeat-interval': '10s', 'heartbeat-ttl': '5s' }, /--heartbeat-ttl must be longer/],
    [{ cluster: 'c', redis: 'http://x' }, /--redis: expected redis:\/\//],
    [{ cluster: 'c', listen: 'nope' }, /--listen: expected HOST:PORT/],
    [{ cluster: 'c', 'redis-cluster': 'a:1,b' }, /--redis-cluster: expected host:port/],
    [
      { cluster: 'c', 'pods-file': 'p.yaml', 'leader-elect': true },
      /--pods-file replaces the Kubernetes API/,
    ],
  ])('refuses %j', (values, message) => {
    const parsed = parseWatcherConfig(configInput(values, {}));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});
