// Attacks on reload: a reload while a connection is being decided, and two reloads whose
// listener swaps overlap. The configuration in force must be the last one applied; an open
// connection keeps the endpoint it was accepted under.
import { MemoryIdentityStore } from '@podgate/identity';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange, loadConfig, pod, startUpstream, type Upstream } from '../test/harness.js';
import { planListeners } from './bindings.js';
import type { ConnectionRecord } from './connection.js';
import type { ListenerPlan } from './listeners.js';
import { type ProxyHandle, startProxy } from './proxy.js';

const endpoint = (name: string, port: number, upstreamPort: number, deny: boolean) => `---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: ${name}, namespace: payments}
spec:
  url: tcp://${name}.payments:${port}
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${upstreamPort}"}
${deny ? '  trafficPolicy:\n    inline:\n      on_tcp_connect:\n        - actions: [{type: deny}]\n' : ''}`;

const APP = 'tcp://app.payments:7000';
const PODS = [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')];

/** Plans with every endpoint on 127.0.0.1, port 0 (a fresh port each time one is opened). */
function plans(text: string): ListenerPlan[] {
  const config = loadConfig(text);
  return planListeners(
    config,
    config.endpoints.map((e) => ({ url: e.url.href, address: { host: '127.0.0.1', port: 0 } })),
  );
}

describe('attack: reload', () => {
  let proxy: ProxyHandle | undefined;
  let upstream: Upstream | undefined;
  afterEach(async () => {
    await proxy?.stop(0);
    await upstream?.close();
    proxy = undefined;
  });

  async function start(initial: ListenerPlan[], lookup?: (ip: string) => Promise<unknown>) {
    const store = new MemoryIdentityStore();
    await store.heartbeat('test', 3_600_000);
    await store.reconcile('test', PODS);
    const records: ConnectionRecord[] = [];
    proxy = await startProxy(
      initial,
      {
        trusted: null,
        maxConnections: 100,
        connectTimeoutMs: 1_000,
        idleTimeoutMs: 5_000,
        proxyHeaderTimeoutMs: 500,
      },
      {
        lookup: async (ip) => {
          await lookup?.(ip);
          return store.lookup(ip, ['test']);
        },
        onConnection: (r) => records.push(r),
        onOverLimit: () => {},
        now: () => performance.now(),
      },
    );
    const port = (url: string) => proxy!.listeners().find((l) => l.endpoint === url)!.port;
    return { proxy, records, port };
  }

  it('a connection accepted before a reload is decided by the endpoint it was accepted under', async () => {
    upstream = await startUpstream();
    // The lookup of the first connection is held until the reload has been applied.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    const { proxy, records, port } = await start(plans(endpoint('app', 7000, upstream.port, false)), () => {
      if (!first) return Promise.resolve();
      first = false;
      return held;
    });
    const appPort = port(APP);
    const before = exchange(appPort, '127.0.0.2', 'before');
    await expect.poll(() => proxy.open()).toBe(1);
    await proxy.apply(plans(endpoint('app', 7000, upstream.port, true)));
    const after = await exchange(appPort, '127.0.0.2', 'after');
    release();
    expect((await before).received.toString()).toBe('before');
    expect(after.received.length).toBe(0);
    expect(records.map((r) => r.end).sort()).toEqual(['closed', 'denied']);
  });

  // DEFECT (policy drift; low reachability). ListenerSet.apply is not serialized: each call
  // awaits its listens, then writes its plans over the set. When an earlier apply opens more
  // new listeners than a later one, it finishes last and puts its older plans back: below, the
  // later configuration denies every connection to app and drops the endpoint extra2, yet
  // after both applies app still forwards (the earlier plan) and extra2 is still served. In
  // the service, reloads are serialized but onApplied does not wait for the previous apply
  // (service.ts `applying = proxy.apply(plans)`), so two reloads overlap when a listen spans
  // an I/O turn (a --bind host that needs DNS, e.g. localhost:PORT). Right behaviour: the
  // configuration in force is the last one applied. Fix: chain applies in ListenerSet (or in
  // startProxy's apply: `chain = chain.then(() => listeners.apply(next))`).
  it('two overlapping applies: the later configuration is the one in force', async () => {
    upstream = await startUpstream();
    const u = upstream.port;
    const { proxy, records, port } = await start(plans(endpoint('app', 7000, u, false)));
    const appPort = port(APP);
    const earlier = proxy.apply(
      plans(
        endpoint('app', 7000, u, false) +
          endpoint('extra1', 7001, u, false) +
          endpoint('extra2', 7002, u, false),
      ),
    );
    const later = proxy.apply(plans(endpoint('app', 7000, u, true) + endpoint('extra1', 7001, u, false)));
    await Promise.all([earlier, later]);
    const r = await exchange(appPort, '127.0.0.2', 'should be denied');
    expect(r.received.length).toBe(0);
    expect(records.at(-1)).toMatchObject({ end: 'denied' });
    expect(
      proxy
        .listeners()
        .map((l) => l.endpoint)
        .sort(),
    ).toEqual([APP, 'tcp://extra1.payments:7001']);
  });
});
