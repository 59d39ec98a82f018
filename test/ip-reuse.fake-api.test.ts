// IP reuse through the whole watcher on the fake Kubernetes API (real HTTP, real JSON watch
// lines, the real source's relist after 410 Gone and re-watch after a dropped connection), on a
// real Redis. The companion of ip-reuse.property.test.ts, which scripts delivery orders in
// process; here the API server decides the order, and the test disrupts it.
//
// The watcher lags the API, so "the state at that moment" is bounded on both sides: after the
// last quiescence point q (the store equalled the cluster), an identity returned for an IP must
// be of a pod that owned that IP in some state of the cluster since q; and at every quiescence
// point (waited for after each round of changes) every lookup equals the cluster exactly.
//
// Runs: IP_REUSE_API_RUNS (default 60, about 3 s); IP_REUSE_SEED replays a failure.
//
// Pods are recreated under a name still taken (a new UID, same name) unless
// IP_REUSE_API_RECREATE=0. Before the fix of docs/reliability-fuzz.md, "Findings", 2, a
// watch that ended in an error was resumed from an older resourceVersion, the events came
// again, and a stale event of the old pod cost the new pod of that name its identity; this
// seed found it, and is kept as a regression run:
//   IP_REUSE_SEED=1576230111 IP_REUSE_API_RUNS=9 npx vitest run test/ip-reuse.fake-api.test.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisIdentityStore } from '@podgate/identity';
import { memoryLogger, type RedisServer, startFakeK8sApi, startRedis } from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import { createMetrics, loadKubeAccess, startWatcher } from '@podgate/watcher';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ClusterOp,
  clusterOp,
  derive,
  describe as describeLookup,
  expectedFor,
  IP_POOL,
  ModelCluster,
  truthClaimants,
} from './ip-reuse.support.js';

const CLUSTER = 'reuse-api';
const RUNS = Number(process.env.IP_REUSE_API_RUNS ?? 60);
const RECREATE = process.env.IP_REUSE_API_RECREATE !== '0';
const SEED = process.env.IP_REUSE_SEED === undefined ? undefined : Number(process.env.IP_REUSE_SEED);

type Disruption = 'none' | 'drop' | 'gone' | 'bookmark';
const round = fc.record({
  changes: fc.array(clusterOp, { minLength: 1, maxLength: 6 }),
  disruption: fc.constantFrom<Disruption>('none', 'none', 'drop', 'gone', 'bookmark'),
});

let redis: RedisServer;
let dir: string;
let runNo = 0;
/** Printed at the end, so a run that checked nothing shows. */
const tally = { runs: 0, rounds: 0, waits: 0, identities: 0, ambiguous: 0, relists: 0 };
beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'ip-reuse-api-'));
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The model's changes on the fake API: the model says what to do, the API does it. */
function applyToApi(
  api: Awaited<ReturnType<typeof startFakeK8sApi>>,
  model: ModelCluster,
  change: ClusterOp,
) {
  const before = model.events.length;
  model.apply(change);
  for (const event of model.events.slice(before)) {
    const { namespace, name } = event.pod.metadata;
    if (event.type === 'DELETED') api.deletePod(namespace, name);
    else if (event.type === 'ADDED') api.addPod(structuredClone(event.pod));
    else {
      api.updatePod(namespace, name, (p) => {
        const next = structuredClone(event.pod);
        p.metadata = { ...next.metadata, resourceVersion: p.metadata.resourceVersion! };
        p.spec = next.spec!;
        p.status = next.status!;
      });
    }
  }
}

const scenario = fc.asyncProperty(fc.array(round, { minLength: 2, maxLength: 6 }), async (rounds) => {
  const api = await startFakeK8sApi({ historyLimit: 50, bookmarkIntervalMs: 0 });
  const store = await createRedisIdentityStore({
    url: redis.url,
    keyPrefix: `ipr-api-${++runNo}:`,
    freshnessRefreshMs: 50,
    lookupTimeoutMs: 2_000,
  });
  const access = await loadKubeAccess({ kubeconfigPath: api.writeKubeconfig(join(dir, `kc-${runNo}`)) });
  const { logger } = memoryLogger('warn');
  const metrics = createMetrics();
  const watcher = startWatcher(
    { cluster: CLUSTER, heartbeatIntervalMs: 200, heartbeatTtlMs: 60_000, apiGraceMs: 60_000 },
    { store, source: testKubeSource(access, { logger, metrics }, { pageSize: 3 }), logger, metrics },
  );
  const model = new ModelCluster(RECREATE);
  try {
    await watcher.ready;
    for (const { changes, disruption } of rounds) {
      // Since the last quiescence point: every pod that owned each IP in some state.
      const owners = new Map<string, Set<string>>(
        IP_POOL.map((ip) => [ip, new Set(truthClaimants(model, ip).map((r) => r.uid))]),
      );
      for (const change of changes) {
        applyToApi(api, model, change);
        for (const ip of IP_POOL) for (const r of truthClaimants(model, ip)) owners.get(ip)!.add(r.uid);
        if (disruption === 'drop') api.dropWatches();
        if (disruption === 'gone') {
          api.compactHistory();
          api.dropWatches();
        }
        if (disruption === 'bookmark') api.sendBookmarks();
        for (const ip of IP_POOL) {
          const result = await store.lookup(ip, [CLUSTER]);
          if (result.ok && !owners.get(ip)!.has(result.identity.uid)) {
            throw new Error(
              `${ip} answered ${describeLookup(result)}, which never owned it since the last quiescence`,
            );
          }
        }
      }
      // Quiescence: wait until the store equals the cluster (bounded).
      const deadline = Date.now() + 10_000;
      for (;;) {
        const got = await Promise.all(
          IP_POOL.map(async (ip) => describeLookup(await store.lookup(ip, [CLUSTER]))),
        );
        const want = IP_POOL.map((ip) => expectedFor(truthClaimants(model, ip)));
        if (JSON.stringify(got) === JSON.stringify(want)) {
          tally.rounds++;
          tally.identities += got.filter((g) => !g.startsWith('!')).length;
          tally.ambiguous += got.filter((g) => g === '!ambiguous').length;
          break;
        }
        tally.waits++;
        if (Date.now() > deadline) {
          expect(got, `pods: ${JSON.stringify([...model.pods.values()].map(derive))}`).toEqual(want);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    tally.runs++;
    tally.relists +=
      (await metrics.registry.getSingleMetric('podgate_watcher_relists_total')?.get())?.values[0]?.value ?? 0;
  } finally {
    await watcher.stop({ flushTimeoutMs: 1_000 });
    await store.close();
    await api.close();
  }
});

it('IP reuse on the fake API with dropped watches, 410 relists and bookmarks (redis store)', async () => {
  await fc.assert(scenario, {
    numRuns: RUNS,
    includeErrorInReport: true,
    ...(SEED === undefined ? {} : { seed: SEED }),
  });
  console.log(`ip-reuse (fake API): ${JSON.stringify(tally)}`);
  expect(tally.identities).toBeGreaterThan(0);
}, 300_000);

it('regression: the seed that found a replayed event costing a recreated pod its identity', async () => {
  // Recreations under a taken name are what it found; without them it checks nothing new.
  if (!RECREATE) return;
  const before = tally.identities;
  await fc.assert(scenario, { numRuns: 9, seed: 1576230111, includeErrorInReport: true });
  expect(tally.identities).toBeGreaterThan(before);
}, 300_000);
