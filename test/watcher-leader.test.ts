// Lease-based leader election between two replicas against the fake API's Leases:
// exactly one writes; a clean stop hands over at once; a leader that cannot renew stops
// writing before anyone else may take over.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import {
  createKubeLeaseApi,
  createMetrics,
  type KubeAccess,
  type LeaderRunner,
  loadKubeAccess,
  runWithLeaderElection,
  startWatcher,
  systemClock,
} from '@podgate/watcher';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { memoryLogger, owner, testKubeSource, waitFor } from '../services/watcher/src/test-helpers.js';
import { type FakeK8sApi, podObject, startFakeK8sApi } from './support/fake-k8s-api.js';

let dir: string;
let api: FakeK8sApi;
let kube: KubeAccess;
let store: MemoryIdentityStore;
const replicas: LeaderRunner[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watcher-leader-'));
  api = await startFakeK8sApi();
  kube = await loadKubeAccess({ kubeconfigPath: api.writeKubeconfig(join(dir, 'kubeconfig')) });
  store = new MemoryIdentityStore();
});
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.stop()));
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function replica(identity: string): LeaderRunner {
  const { logger } = memoryLogger();
  const metrics = createMetrics();
  const runner = runWithLeaderElection(
    {
      namespace: 'podgate',
      name: 'watcher',
      identity,
      leaseDurationMs: 1_000,
      renewIntervalMs: 50,
      renewDeadlineMs: 500,
    },
    { api: createKubeLeaseApi(kube), clock: systemClock, logger, metrics },
    () =>
      startWatcher(
        { cluster: 'ha', heartbeatIntervalMs: 50, heartbeatTtlMs: 1_000, apiGraceMs: 300 },
        {
          store,
          logger,
          metrics,
          source: testKubeSource(kube, { logger, metrics }, { backoff: { baseMs: 20, capMs: 100 } }),
        },
      ),
  );
  replicas.push(runner);
  return runner;
}

/** Samples both replicas until stopped; records whether two ever led at once. */
function watchForSplitBrain(a: LeaderRunner, b: LeaderRunner) {
  let both = false;
  const timer = setInterval(() => {
    if (a.leading && b.leading) both = true;
  }, 5);
  return () => {
    clearInterval(timer);
    return both;
  };
}

it('one replica leads and writes; a clean stop hands over at once', async () => {
  api.addPod(podObject({ name: 'p1', namespace: 'n', ip: '10.4.0.1' }));
  const a = replica('a');
  const b = replica('b');
  const splitBrain = watchForSplitBrain(a, b);
  const leader = await waitFor('a leader', () => (a.leading ? a : b.leading ? b : null));
  const standby = leader === a ? b : a;
  await leader.watcher()!.ready;
  expect(await owner(store, '10.4.0.1', 'ha')).toBe('n/p1');
  expect(standby.leading).toBe(false);
  expect(standby.readiness()).toMatchObject({ ready: true, detail: { role: 'standby' } });
  expect(leader.readiness()).toMatchObject({ ready: true, detail: { role: 'leader' } });
  const leaderName = api.getLease('podgate', 'watcher')?.spec.holderIdentity;
  expect(leaderName).toBe(leader === a ? 'a' : 'b');

  const handoverStart = Date.now();
  await leader.stop();
  await waitFor('standby takes over', () => standby.leading, 5_000);
  // Released, so no need to wait out the 1 s lease.
  expect(Date.now() - handoverStart).toBeLessThan(900);
  api.addPod(podObject({ name: 'p2', namespace: 'n', ip: '10.4.0.2' }));
  await waitFor('new leader writes', async () => (await owner(store, '10.4.0.2', 'ha')) === 'n/p2');
  expect(splitBrain()).toBe(false);
  expect(api.getLease('podgate', 'watcher')?.spec.leaseTransitions).toBe(1);
});

it('a leader that cannot renew stops before the lease can be taken; leadership resumes after', async () => {
  const a = replica('a');
  const b = replica('b');
  const splitBrain = watchForSplitBrain(a, b);
  const leader = await waitFor('a leader', () => (a.leading ? a : b.leading ? b : null));
  await leader.watcher()!.ready;
  api.setDown(true);
  await waitFor('leader steps down', () => !a.leading && !b.leading, 3_000);
  expect(leader.readiness().ready).toBe(false);
  api.setDown(false);
  await waitFor('someone leads again', () => a.leading || b.leading, 5_000);
  expect(splitBrain()).toBe(false);
});

it('a leader whose API hangs (no answer at all) steps down within the renew deadline', async () => {
  const a = replica('a');
  const leader = await waitFor('a leads', () => a.leading);
  await a.watcher()!.ready;
  const hungAt = Date.now();
  api.setHung(true);
  await waitFor('leader steps down', () => !a.leading, 3_000);
  // Renew deadline 500 ms, one round bounded at 250 ms, renew interval 50 ms.
  expect(Date.now() - hungAt).toBeLessThan(1_000);
  expect(leader).toBe(true);
  api.setHung(false);
  await waitFor('leads again', () => a.leading, 5_000);
});
