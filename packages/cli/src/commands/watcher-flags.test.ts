// `podgate watcher`'s flags and environment, mapped to the watcher's configuration and
// the store flags (moved here with the command from services/watcher/src/config.test.ts).
import { describe, expect, it } from 'vitest';
import { parseWatcherFlags } from './watcher-flags.js';

describe('watcher configuration', () => {
  it('takes defaults, and flags over the environment', () => {
    const parsed = parseWatcherFlags(
      { cluster: 'prod-eu' },
      { PODGATE_CLUSTER: 'ignored', REDIS_URL: 'redis://127.0.0.1:1' },
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
    const parsed = parseWatcherFlags(
      { 'annotation-prefix': ['a.example/', 'b.example/'], listen: '[::1]:0' },
      { PODGATE_CLUSTER: 'c1' },
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
    const parsed = parseWatcherFlags(values, {});
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('the watcher flags beyond the schema', () => {
  it('takes one --cluster only: a watcher writes one cluster', () => {
    const parsed = parseWatcherFlags({ cluster: ['a', 'b'] }, {});
    expect(parsed.ok || parsed.message).toBe('--cluster: a watcher writes one cluster; give one name');
  });

  it('lists the problems of the store flags and of the watcher together', () => {
    const parsed = parseWatcherFlags({ redis: 'redis://a:1', 'redis-cluster': 'b:2', listen: 'x' }, {});
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message.split('\n')).toEqual(
      expect.arrayContaining([
        'give --redis or --redis-cluster, not both',
        expect.stringMatching(/^--cluster \(or PODGATE_CLUSTER\) is required/),
        expect.stringMatching(/^--listen: expected HOST:PORT/),
      ]),
    );
  });

  it('reads the in-cluster API server, the identity and the log level from the environment', () => {
    const parsed = parseWatcherFlags(
      { cluster: 'c' },
      {
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        KUBERNETES_SERVICE_PORT: '6443',
        HOSTNAME: 'pod-1',
        LOG_LEVEL: 'debug',
      },
    );
    expect(parsed.ok && parsed.config).toMatchObject({
      kubernetesServiceHost: '10.0.0.1',
      kubernetesServicePort: '6443',
      identity: 'pod-1',
      logLevel: 'debug',
    });
  });
});
