// Attacks on the lookup-share window (--lookup-share): connections from one IP within the
// window share one store read. It must never give one IP another IP's answer, and a
// connection must never act on a read older than the window: a deletion is seen by every
// connection that arrives more than the window after it. A real Redis store behind it; the
// window is made long (300 ms) so the bound is measurable on a loaded machine.
import { createRedisIdentityStore, type RedisIdentityStore } from '@podgate/identity';
import { type RedisServer, startRedis } from '@podgate/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  exchange,
  loadConfig,
  pod,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../test/harness.js';
import { sharedLookups } from './shared-lookups.js';

const config = (upstreamPort: number) => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: app, namespace: payments}
spec:
  url: tcp://app.payments:7000
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${upstreamPort}"}
  trafficPolicy:
    inline:
      on_tcp_connect:
        - expressions: ['conn.k8s.pod.metadata.namespace != "payments"']
          actions: [{type: deny}]
`;
const APP = 'tcp://app.payments:7000';
const WINDOW = 300;
const WORKER = pod('u-worker', '127.0.0.2', 'payments', 'worker-a');
const INTRUDER = pod('u-intruder', '127.0.0.3', 'other', 'intruder');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisServer;
let store: RedisIdentityStore;
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('attack: the lookup-share window', () => {
  let upstream: Upstream | undefined;
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    await upstream?.close();
    await store?.close();
  });
  const start = async () => {
    store = await createRedisIdentityStore({
      url: redis.url,
      keyPrefix: `share${n++}:`,
      clusters: ['test'],
      freshnessRefreshMs: 100,
      // Not a test of the deadline: a loaded machine must not turn a lookup into store_unavailable.
      lookupTimeoutMs: 10_000,
    });
    await store.heartbeat('test', 600_000);
    await store.reconcile('test', [WORKER, INTRUDER]);
    await store.refreshFreshness();
    upstream = await startUpstream();
    const shared = sharedLookups(
      (ip) => store.lookup(ip, ['test']),
      WINDOW,
      () => performance.now(),
    );
    proxy = await startTestProxy(loadConfig(config(upstream.port)), [], {}, shared.lookup);
    return { proxy, upstream, shared };
  };

  it('a connection that arrives more than the window after a deletion sees the deletion', async () => {
    const { proxy } = await start();
    expect((await exchange(proxy.port(APP), '127.0.0.2', 'a')).received.toString()).toBe('a');
    await store.release('test', 'u-worker', '2');
    const deletedAt = performance.now();
    // Inside the window the shared answer may still name the pod (the documented bound)...
    await sleep(WINDOW + 50);
    // ...past it, never.
    const late = await exchange(proxy.port(APP), '127.0.0.2', 'b');
    expect(performance.now() - deletedAt).toBeGreaterThan(WINDOW);
    expect(late.received.length).toBe(0);
    expect(proxy.records.at(-1)).toMatchObject({ end: 'denied', lookup: { ok: false, reason: 'not_found' } });
  });

  it('a read in flight across a deletion is never used past one window after the deletion', async () => {
    const { proxy } = await start();
    // A burst keeps a shared read in use all the time; the pod is deleted during it.
    const port = proxy.port(APP);
    const burst: Array<Promise<{ sentAt: number; allowed: boolean }>> = [];
    const started = performance.now();
    let deletedAt = 0;
    while (performance.now() - started < WINDOW * 3) {
      const sentAt = performance.now();
      burst.push(exchange(port, '127.0.0.2', 'x').then((r) => ({ sentAt, allowed: r.received.length > 0 })));
      if (deletedAt === 0 && sentAt - started > WINDOW / 2) {
        await store.release('test', 'u-worker', '2');
        deletedAt = performance.now(); // the deletion is in the store by now
      }
      await sleep(10);
    }
    const outcomes = await Promise.all(burst);
    // A connection arrives after it was sent; one allowed must have arrived within one window
    // of a read made before the deletion, so it was sent before deletedAt + WINDOW.
    const allowed = outcomes.filter((o) => o.allowed);
    expect(allowed.length).toBeGreaterThan(0);
    for (const o of allowed) expect(o.sentAt).toBeLessThan(deletedAt + WINDOW);
    expect(outcomes.filter((o) => !o.allowed && o.sentAt > deletedAt + WINDOW).length).toBeGreaterThan(0);
  });

  it('IPs never share: in one window, each IP gets its own answer, whatever its spelling', async () => {
    const { proxy, shared } = await start();
    const port = proxy.port(APP);
    const results = await Promise.all([
      exchange(port, '127.0.0.2', 'w1'),
      exchange(port, '127.0.0.3', 'i1'),
      exchange(port, '127.0.0.2', 'w2'),
      exchange(port, '127.0.0.3', 'i2'),
    ]);
    expect(results.map((r) => r.received.toString())).toEqual(['w1', '', 'w2', '']);
    // The proxy hands the table canonical addresses; a mapped spelling asked directly answers
    // for the same pod, never the other one.
    const mapped = await shared.lookup('::ffff:127.0.0.3');
    expect(mapped).toMatchObject({ ok: true, identity: { uid: 'u-intruder' } });
    const byIp = new Map(proxy.records.map((r) => [r.client.ip, r.lookup]));
    expect(byIp.get('127.0.0.2')).toMatchObject({ ok: true, identity: { uid: 'u-worker' } });
    expect(byIp.get('127.0.0.3')).toMatchObject({ ok: true, identity: { uid: 'u-intruder' } });
  });
});
