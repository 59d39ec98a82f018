// Redis stopped under a running proxy: fail-closed endpoints deny, fail-open ones allow, both
// within the lookup deadline; once Redis is back (and the watcher has refilled it) decisions
// are right again, without restarting the proxy.
import { createRedisIdentityStore, type RedisIdentityStore } from '@podgate/identity';
import { type RedisServer, startRedis } from '@podgate/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudEndpoint, failOpen, ledgerConfig } from '../test/configs.js';
import {
  exchange,
  loadConfig,
  pod,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../test/harness.js';

const config = (upstreamPort: number) =>
  `${ledgerConfig(upstreamPort)}---\n${cloudEndpoint({ name: 'status', url: 'tcp://status.payments:8080', rules: failOpen })}`;
const FAIL_CLOSED = 'tcp://ledger.payments:5432';
const FAIL_OPEN = 'tcp://status.payments:8080';
const LOOKUP_TIMEOUT = 150;
const PODS = [
  pod('u-worker', '127.0.0.2', 'payments', 'worker-a'),
  pod('u-intruder', '127.0.0.3', 'other', 'intruder'),
];

describe('proxy: the store goes away and comes back', () => {
  let redis: RedisServer | undefined;
  let restarted: RedisServer | undefined;
  let store: RedisIdentityStore | undefined;
  let upstream: Upstream | undefined;
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    await store?.close();
    await upstream?.close();
    await restarted?.stop();
    await redis?.stop();
  });

  it('fail-closed denies and fail-open allows within the lookup deadline; right again once Redis is back', async () => {
    redis = await startRedis();
    store = await createRedisIdentityStore({
      url: redis.url,
      clusters: ['test'],
      lookupTimeoutMs: LOOKUP_TIMEOUT,
      freshnessRefreshMs: 50,
      redisOptions: { retryStrategy: () => 50 },
    });
    // As the watcher does: reconcile, then heartbeat (a store that reconciled refuses to
    // heartbeat over data it lost, so the other order never refills a restarted Redis).
    const fill = async (s: RedisIdentityStore) => {
      await s.reconcile('test', PODS);
      await s.heartbeat('test', 60_000);
      await s.refreshFreshness();
    };
    await fill(store);
    upstream = await startUpstream();
    const s = store;
    proxy = await startTestProxy(loadConfig(config(upstream.port)), [], {}, (ip) => s.lookup(ip, ['test']));
    const verdicts = async () =>
      Promise.all([
        exchange(proxy!.port(FAIL_CLOSED), '127.0.0.2', 'a'),
        exchange(proxy!.port(FAIL_CLOSED), '127.0.0.3', 'b'),
        exchange(proxy!.port(FAIL_OPEN), '127.0.0.2', 'c'),
        exchange(proxy!.port(FAIL_OPEN), '127.0.0.3', 'd'),
      ]).then((rs) => rs.map((r) => r.received.toString()));

    expect(await verdicts()).toEqual(['a', '', 'c', '']);

    await redis.stop();
    proxy.records.length = 0;
    // Unknown identity: fail-closed refuses everyone, fail-open lets everyone through.
    expect(await verdicts()).toEqual(['', '', 'c', 'd']);
    for (const r of proxy.records) {
      expect(r.lookup).toMatchObject({ ok: false, reason: 'store_unavailable' });
      expect(r.lookupMs!).toBeLessThan(LOOKUP_TIMEOUT + 150);
    }

    // Back, empty: stale until the watcher (here: fill) writes it again; then right.
    restarted = await startRedis({ port: redis.port });
    const reason = async () => {
      const r = await s.lookup('127.0.0.2', ['test']);
      return r.ok ? 'found' : r.reason;
    };
    await expect.poll(reason, { timeout: 5_000 }).toBe('stale_cluster');
    // The writes retried until the client has reconnected (a read sent across the restart
    // may still wait out its command timeout).
    const refilled = async () => {
      try {
        await fill(s);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(refilled, { timeout: 15_000 }).toBe(true);
    await expect.poll(verdicts, { timeout: 5_000 }).toEqual(['a', '', 'c', '']);
  });
});
