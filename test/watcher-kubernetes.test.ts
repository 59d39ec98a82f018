// The watcher against a fake Kubernetes API over real HTTP, writing to the memory store
// and to a real Redis: initial sync, every kind of pod event, supervision of the watch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createRedisIdentityStore, type IdentityStore, MemoryIdentityStore } from '@podgate/identity';
import {
  type FakeK8sApi,
  memoryLogger,
  owner,
  podObject,
  type RedisServer,
  startFakeK8sApi,
  startRedis,
  waitFor,
} from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import {
  createMetrics,
  kubeAccessFromKubeConfig,
  loadKubeAccess,
  type RunningWatcher,
  startWatcher,
  type WatcherMetrics,
} from '@podgate/watcher';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const CLUSTER = 'test';
let dir: string;
let redis: RedisServer;
let testNo = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watcher-k8s-'));
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  api: FakeK8sApi;
  store: IdentityStore;
  watcher: RunningWatcher;
  metrics: WatcherMetrics;
  kc: KubeConfig;
  start(): RunningWatcher;
  who(ip: string): Promise<string>;
  counter(name: string, labels?: Record<string, string>): Promise<number>;
}

const stores: Record<string, () => Promise<IdentityStore>> = {
  memory: async () => new MemoryIdentityStore(),
  redis: () =>
    createRedisIdentityStore({
      url: redis.url,
      keyPrefix: `k8s-test-${++testNo}:`,
      freshnessRefreshMs: 50,
      // Not about the lookup deadline: 200 ms would let a loaded machine answer store_unavailable.
      lookupTimeoutMs: 10_000,
    }),
};

describe.each(Object.keys(stores))(
  'watcher on the Kubernetes API (%s store; memory: client-node KubeConfig, redis: native kubeconfig)',
  (kind) => {
    let h: Harness;
    const running: RunningWatcher[] = [];

    beforeEach(async () => {
      const api = await startFakeK8sApi({ historyLimit: 1000 });
      const kubeconfig = api.writeKubeconfig(join(dir, `kubeconfig-${++testNo}`));
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      // Both ways to reach the API: client-node's KubeConfig, and the native loader.
      const access =
        kind === 'memory'
          ? kubeAccessFromKubeConfig(kc)
          : await loadKubeAccess({ kubeconfigPath: kubeconfig });
      const store = await stores[kind]!();
      const metrics = createMetrics();
      const start = () => {
        const { logger } = memoryLogger();
        const source = testKubeSource(access, { logger, metrics }, { pageSize: 2, watchIdleTimeoutMs: 400 });
        const watcher = startWatcher(
          {
            cluster: CLUSTER,
            heartbeatIntervalMs: 50,
            heartbeatTtlMs: 600,
            apiGraceMs: 300,
            storeBackoff: { baseMs: 20, capMs: 200 },
          },
          { store, source, logger, metrics },
        );
        running.push(watcher);
        return watcher;
      };
      h = {
        api,
        store,
        kc,
        metrics,
        start,
        watcher: undefined as unknown as RunningWatcher,
        who: (ip) => owner(store, ip, CLUSTER),
        counter: async (name, labels = {}) => {
          const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
          const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, unknown> }>;
          return values
            .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
            .reduce((sum, v) => sum + v.value, 0);
        },
      };
    });

    afterEach(async () => {
      await Promise.all(running.splice(0).map((w) => w.stop()));
      await h.api.close();
      await h.store.close();
    });

    const seedBasic = () => {
      h.api.addPod(
        podObject({
          name: 'web',
          namespace: 'shop',
          ip: '10.0.0.1',
          annotations: { 'k8s.ngrok.com/tier': 'front' },
        }),
      );
      h.api.addPod(
        podObject({ name: 'node-agent', namespace: 'kube-system', ip: '10.9.0.1', hostNetwork: true }),
      );
      h.api.addPod(podObject({ name: 'job-done', namespace: 'batch', ip: '10.0.0.3', phase: 'Succeeded' }));
      h.api.addPod(podObject({ name: 'pending', namespace: 'shop', ip: null, phase: 'Pending' }));
      h.api.addPod(podObject({ name: 'dual', namespace: 'shop', ips: ['10.0.0.4', 'fd00::4'] }));
    };

    it('syncs the initial listing (in pages) and becomes ready', async () => {
      seedBasic();
      h.watcher = h.start();
      await h.watcher.ready;
      expect(h.api.counts.list).toBe(3); // 5 pods, pages of 2
      expect(await h.who('10.0.0.1')).toBe('shop/web');
      expect(await h.who('::ffff:10.0.0.4')).toBe('shop/dual');
      expect(await h.who('fd00::4')).toBe('shop/dual');
      expect(await h.who('10.9.0.1')).toBe('!not_found'); // hostNetwork: the node's IP
      expect(await h.who('10.0.0.3')).toBe('!not_found'); // Succeeded: no longer its IP
      const status = h.watcher.status();
      expect(status).toMatchObject({ synced: true, heartbeating: true, podsTracked: 5 });
      const result = await h.store.lookup('10.0.0.1', [CLUSTER]);
      expect(result.ok && result.identity.annotations).toEqual({ 'k8s.ngrok.com/tier': 'front' });
    });

    it('follows adds, IP assignment and change, phase, annotations, hostNetwork and deletes', async () => {
      seedBasic();
      h.watcher = h.start();
      await h.watcher.ready;
      h.api.addPod(podObject({ name: 'new', namespace: 'shop', ip: '10.0.1.1' }));
      await waitFor('added pod', async () => (await h.who('10.0.1.1')) === 'shop/new');

      h.api.updatePod('shop', 'pending', (p) => {
        p.status = { phase: 'Running', podIP: '10.0.1.2', podIPs: [{ ip: '10.0.1.2' }] };
      });
      await waitFor('IP assigned', async () => (await h.who('10.0.1.2')) === 'shop/pending');

      h.api.updatePod('shop', 'new', (p) => {
        p.status = { phase: 'Running', podIP: '10.0.1.3', podIPs: [{ ip: '10.0.1.3' }] };
      });
      await waitFor('IP changed', async () => (await h.who('10.0.1.3')) === 'shop/new');
      expect(await h.who('10.0.1.1')).toBe('!not_found');

      h.api.updatePod('shop', 'new', (p) => {
        p.metadata.annotations = { 'k8s.ngrok.com/tier': 'gold' };
      });
      await waitFor('annotation change', async () => {
        const r = await h.store.lookup('10.0.1.3', [CLUSTER]);
        return r.ok && r.identity.annotations['k8s.ngrok.com/tier'] === 'gold';
      });

      h.api.updatePod('shop', 'new', (p) => {
        p.status = { ...p.status, phase: 'Failed' };
      });
      await waitFor('phase Failed releases', async () => (await h.who('10.0.1.3')) === '!not_found');

      h.api.updatePod('shop', 'pending', (p) => {
        p.spec = { ...p.spec, hostNetwork: true };
      });
      await waitFor('hostNetwork releases', async () => (await h.who('10.0.1.2')) === '!not_found');

      h.api.deletePod('shop', 'web');
      await waitFor('delete releases', async () => (await h.who('10.0.0.1')) === '!not_found');
      expect(await h.who('10.0.0.4')).toBe('shop/dual');
    });

    it('a pod recreated under the same name with a new UID (even as an update) takes over', async () => {
      h.api.addPod(podObject({ name: 'db-0', namespace: 'data', ip: '10.0.2.1', uid: 'uid-old' }));
      h.watcher = h.start();
      await h.watcher.ready;
      h.api.updatePod('data', 'db-0', (p) => {
        p.metadata.uid = 'uid-new';
        p.status = { phase: 'Running', podIP: '10.0.2.2', podIPs: [{ ip: '10.0.2.2' }] };
      });
      await waitFor('new UID claimed', async () => {
        const r = await h.store.lookup('10.0.2.2', [CLUSTER]);
        return r.ok && r.identity.uid === 'uid-new';
      });
      expect(await h.who('10.0.2.1')).toBe('!not_found');
      // Delete then re-create (what the API really sends), reusing the same IP.
      h.api.deletePod('data', 'db-0');
      h.api.addPod(podObject({ name: 'db-0', namespace: 'data', ip: '10.0.2.2', uid: 'uid-third' }));
      await waitFor('third UID claimed', async () => {
        const r = await h.store.lookup('10.0.2.2', [CLUSTER]);
        return r.ok && r.identity.uid === 'uid-third';
      });
    });

    it('IP reuse: two live claimants are ambiguous; the survivor owns the IP after the delete', async () => {
      h.api.addPod(podObject({ name: 'old', namespace: 'a', ip: '10.0.3.1' }));
      h.watcher = h.start();
      await h.watcher.ready;
      // The new pod gets the IP before the old one's delete arrives.
      h.api.addPod(podObject({ name: 'new', namespace: 'b', ip: '10.0.3.1' }));
      await waitFor('ambiguous while both live', async () => (await h.who('10.0.3.1')) === '!ambiguous');
      h.api.deletePod('a', 'old');
      await waitFor('survivor owns it', async () => (await h.who('10.0.3.1')) === 'b/new');
      // The other order: delete first, then the reuse; and a burst for one IP.
      h.api.deletePod('b', 'new');
      for (let i = 0; i < 5; i++) {
        h.api.addPod(podObject({ name: `burst-${i}`, namespace: 'c', ip: '10.0.3.1' }));
        h.api.deletePod('c', `burst-${i}`);
      }
      h.api.addPod(podObject({ name: 'final', namespace: 'c', ip: '10.0.3.1' }));
      await waitFor('last owner wins', async () => (await h.who('10.0.3.1')) === 'c/final');
    });

    it('after a restart, pods deleted meanwhile are removed only once the new listing is complete', async () => {
      h.api.addPod(podObject({ name: 'stays', namespace: 'a', ip: '10.0.4.1' }));
      // The newest pod is the one deleted: no listed pod is newer than its claim.
      h.api.addPod(podObject({ name: 'goes', namespace: 'a', ip: '10.0.4.2' }));
      const first = h.start();
      await first.ready;
      await first.stop();
      h.api.deletePod('a', 'goes');
      const release = h.api.holdLists();
      const second = h.start();
      // Nothing is removed while the listing is incomplete: the old claims still answer.
      await waitFor('second watcher tried to list', () => second.status().source.lastContactAt === null);
      await new Promise((r) => setTimeout(r, 100));
      await h.store.heartbeat(CLUSTER, 5_000); // as the stopped watcher's last heartbeat would
      expect(await h.who('10.0.4.2')).toBe('a/goes');
      expect(await h.who('10.0.4.1')).toBe('a/stays');
      release();
      await second.ready;
      await waitFor('deleted pod removed', async () => (await h.who('10.0.4.2')) === '!not_found');
      expect(await h.who('10.0.4.1')).toBe('a/stays');
    });

    it('410 Gone on resume: relists and reconciles', async () => {
      h.api.addPod(podObject({ name: 'p1', namespace: 'a', ip: '10.0.5.1' }));
      h.api.addPod(podObject({ name: 'p2', namespace: 'a', ip: '10.0.5.2' }));
      h.watcher = h.start();
      await h.watcher.ready;
      await waitFor('watching', () => h.api.activeWatches === 1);
      const lists = h.api.counts.list;
      h.api.holdLists(); // not released yet: the relist must wait until we compacted
      h.api.dropWatches();
      h.api.silence();
      // Changes the dropped watch never saw, then the history that would replay them is gone.
      h.api.deletePod('a', 'p2');
      h.api.addPod(podObject({ name: 'p3', namespace: 'a', ip: '10.0.5.3' }));
      h.api.compactHistory();
      h.api.holdLists()(); // release
      await waitFor(
        'relisted after 410',
        async () => (await h.counter('podgate_watcher_relists_total')) === 2,
      );
      expect(h.api.counts.list).toBeGreaterThan(lists);
      expect(
        await h.counter('podgate_watcher_watch_restarts_total', { reason: 'gone' }),
      ).toBeGreaterThanOrEqual(1);
      await waitFor('p2 removed', async () => (await h.who('10.0.5.2')) === '!not_found');
      await waitFor('p3 claimed', async () => (await h.who('10.0.5.3')) === 'a/p3');
      expect(await h.who('10.0.5.1')).toBe('a/p1');
    });

    it('a dropped watch is resumed from its resourceVersion without a relist', async () => {
      h.api.addPod(podObject({ name: 'p1', namespace: 'a', ip: '10.0.6.1' }));
      h.watcher = h.start();
      await h.watcher.ready;
      await waitFor('watching', () => h.api.activeWatches === 1);
      const watches = h.api.counts.watch;
      h.api.dropWatches();
      h.api.addPod(podObject({ name: 'p2', namespace: 'a', ip: '10.0.6.2' }));
      await waitFor('event after the drop', async () => (await h.who('10.0.6.2')) === 'a/p2');
      expect(h.api.counts.watch).toBeGreaterThan(watches);
      expect(
        await h.counter('podgate_watcher_watch_restarts_total', { reason: 'error' }),
      ).toBeGreaterThanOrEqual(1);
      expect(await h.counter('podgate_watcher_relists_total')).toBe(1);
    });

    it('a silent watch is restarted after the idle timeout', async () => {
      h.api.addPod(podObject({ name: 'p1', namespace: 'a', ip: '10.0.7.1' }));
      h.watcher = h.start();
      await h.watcher.ready;
      await waitFor('watching', () => h.api.activeWatches === 1);
      const watches = h.api.counts.watch;
      h.api.silence();
      h.api.addPod(podObject({ name: 'p2', namespace: 'a', ip: '10.0.7.2' }));
      await waitFor('event after the restart', async () => (await h.who('10.0.7.2')) === 'a/p2');
      expect(h.api.counts.watch).toBeGreaterThan(watches);
      expect(
        await h.counter('podgate_watcher_watch_restarts_total', { reason: 'idle' }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('an API outage stops the heartbeat (readers see a stale cluster); recovery resumes it', async () => {
      h.api.addPod(podObject({ name: 'p1', namespace: 'a', ip: '10.0.8.1' }));
      h.watcher = h.start();
      await h.watcher.ready;
      h.api.setDown(true);
      await waitFor('unhealthy', () => !h.watcher.status().healthy, 5_000);
      await waitFor('readers see stale', async () => (await h.who('10.0.8.1')) === '!stale_cluster', 5_000);
      expect(h.watcher.status().heartbeating).toBe(false);
      h.api.addPod(podObject({ name: 'p2', namespace: 'a', ip: '10.0.8.2' }));
      h.api.setDown(false);
      await waitFor('fresh again', async () => (await h.who('10.0.8.1')) === 'a/p1', 10_000);
      await waitFor('change during the outage applied', async () => (await h.who('10.0.8.2')) === 'a/p2');
    });
  },
);
