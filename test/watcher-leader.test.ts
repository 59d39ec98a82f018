// Lease-based leader election between two replicas against the fake API's Leases:
// exactly one writes; a clean stop hands over at once; a leader that cannot renew stops
// writing before anyone else may take over; writes of an earlier term that land late
// are refused by the store's fence (ADR 0003).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type IdentityWriter,
  MemoryIdentityStore,
  type PodRecord,
  type ReconcileOptions,
} from '@podgate/identity';
import { systemClock } from '@podgate/runtime';
import {
  type FakeK8sApi,
  memoryLogger,
  owner,
  podObject,
  startFakeK8sApi,
  waitFor,
} from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import {
  createKubeLeaseApi,
  createMetrics,
  type KubeAccess,
  type LeaderRunner,
  type LeaseApi,
  loadKubeAccess,
  runWithLeaderElection,
  startWatcher,
} from '@podgate/watcher';
import { afterEach, beforeEach, expect, it, onTestFinished } from 'vitest';

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

interface ReplicaOptions {
  /** The replica's writes (default: the shared store). */
  writes?: IdentityWriter;
  /** The replica's Lease API (default: the fake API's). */
  leases?: LeaseApi;
  logger?: ReturnType<typeof memoryLogger>;
  /** Lease timing (default: a 1 s lease, renewed within 500 ms). */
  lease?: { durationMs: number; renewDeadlineMs: number };
}

function replica(identity: string, o: ReplicaOptions = {}): LeaderRunner {
  const { logger } = o.logger ?? memoryLogger();
  const metrics = createMetrics();
  const runner = runWithLeaderElection(
    {
      namespace: 'podgate',
      name: 'watcher',
      identity,
      leaseDurationMs: o.lease?.durationMs ?? 1_000,
      renewIntervalMs: 50,
      renewDeadlineMs: o.lease?.renewDeadlineMs ?? 500,
    },
    { api: o.leases ?? createKubeLeaseApi(kube), clock: systemClock, logger, metrics },
    (term) =>
      startWatcher(
        {
          cluster: 'ha',
          heartbeatIntervalMs: 50,
          heartbeatTtlMs: 1_000,
          apiGraceMs: 300,
          writerEpoch: term.epoch,
        },
        {
          store: o.writes ?? store,
          logger,
          metrics,
          source: testKubeSource(kube, { logger, metrics }, { backoff: { baseMs: 20, capMs: 100 } }),
          onDeposed: term.deposed,
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
  // A 10 s lease: a takeover well inside it is the release, not the lease running out, however
  // slow a loaded machine makes the handover; and a 5 s renew deadline, so that a loaded
  // machine's stall does not make the leader step down (and not release) before its stop.
  const lease = { durationMs: 10_000, renewDeadlineMs: 5_000 };
  const a = replica('a', { lease });
  const b = replica('b', { lease });
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
  // Released, so no need to wait out the 10 s lease.
  expect(Date.now() - handoverStart).toBeLessThan(5_000);
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
  // Timing three times the default's: the margin between stepping down (renew deadline, plus
  // the last bounded round) and the lease running out is then 1.4 s, not 200 ms, which timers
  // late on a loaded machine had eaten.
  const a = replica('a', { lease: { durationMs: 3_000, renewDeadlineMs: 1_500 } });
  const leader = await waitFor('a leads', () => a.leading);
  await a.watcher()!.ready;
  const hungAt = Date.now();
  api.setHung(true);
  await waitFor('leader steps down', () => !a.leading, 5_000);
  // Renew deadline 1.5 s, one round bounded at 750 ms, renew interval 50 ms: down by about
  // 1.6 s after the hang, before the 3 s lease lets anyone else take over.
  expect(Date.now() - hungAt).toBeLessThan(3_000);
  expect(leader).toBe(true);
  api.setHung(false);
  await waitFor('leads again', () => a.leading, 5_000);
});

/**
 * `inner`'s writes (and those of the writers its fence returns), held while `hold` is on:
 * a replica whose writes are stuck in flight (a slow network, a paused process).
 */
function gatedWrites(inner: IdentityWriter) {
  let holding = false;
  let open = () => {};
  let gate = Promise.resolve();
  let held = 0;
  let settled = 0;
  const heldClaims: string[] = [];
  const pass = async <T>(write: () => Promise<T>, claimOf?: string): Promise<T> => {
    if (holding) {
      held++;
      if (claimOf !== undefined) heldClaims.push(claimOf);
      await gate;
    }
    try {
      return await write();
    } finally {
      settled++;
    }
  };
  const wrap = (w: IdentityWriter): IdentityWriter => ({
    claim: (c: string, r: PodRecord) => pass(() => w.claim(c, r), r.name),
    release: (c: string, uid: string, rv: string) => pass(() => w.release(c, uid, rv)),
    reconcile: (c: string, records: PodRecord[], options?: ReconcileOptions) =>
      pass(() => w.reconcile(c, records, options)),
    heartbeat: (c: string, ttl: number) => pass(() => w.heartbeat(c, ttl)),
    fence: async (c: string, epoch: number): Promise<Awaited<ReturnType<IdentityWriter['fence']>>> => {
      const result = await pass(() => w.fence(c, epoch));
      return result.ok ? { ok: true, writer: wrap(result.writer) } : result;
    },
  });
  return {
    writes: wrap(inner),
    hold() {
      holding = true;
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    /** Lets the held writes go; resolves the count of writes that were held. */
    release() {
      holding = false;
      open();
      return held;
    },
    /** Names of the pods whose claims are held. */
    heldClaims: () => heldClaims,
    settled: () => settled,
  };
}

/** `api`, failing every call while `cut` is on: a replica cut off from the API server. */
function cuttable(api: LeaseApi) {
  let cut = false;
  const check = () => {
    if (cut) throw new Error('connection refused (cut off)');
  };
  return {
    leases: {
      get: async (ns, name, signal) => {
        check();
        return api.get(ns, name, signal);
      },
      create: async (ns, lease, signal) => {
        check();
        return api.create(ns, lease, signal);
      },
      replace: async (ns, lease, signal) => {
        check();
        return api.replace(ns, lease, signal);
      },
    } satisfies LeaseApi,
    setCut: (v: boolean) => {
      cut = v;
    },
  };
}

it('an old leader’s late write after the hand-over is refused: no resurrection of a deleted pod', async () => {
  api.addPod(podObject({ name: 'q', namespace: 'n', ip: '10.4.1.1' }));
  const gated = gatedWrites(store);
  const link = cuttable(createKubeLeaseApi(kube));
  const logA = memoryLogger();
  const a = replica('a', { writes: gated.writes, leases: link.leases, logger: logA });
  await waitFor('a leads', () => a.leading);
  await a.watcher()!.ready;
  expect(await owner(store, '10.4.1.1', 'ha')).toBe('n/q');
  const b = replica('b');

  // A's writes get stuck: q's update is in flight when q is deleted.
  gated.hold();
  // A's stop waits for its writes in flight: never leave them held past the test.
  onTestFinished(() => void gated.release());
  api.updatePod('n', 'q', (pod) => {
    pod.metadata.annotations = { 'k8s.ngrok.com/changed': 'yes' };
  });
  await waitFor('a’s claim of q is in flight', () => gated.heldClaims().includes('q'));
  api.deletePod('n', 'q');
  // A loses the API: it steps down at its renew deadline; B takes over after the lease.
  link.setCut(true);
  await waitFor('b takes over', () => b.leading, 5_000);
  await b.watcher()!.ready;
  // B's reconcile dropped q (no tombstone: A's release never landed).
  expect(await owner(store, '10.4.1.1', 'ha')).toBe('!not_found');
  expect(api.getLease('podgate', 'watcher')?.spec.leaseTransitions).toBe(1);

  // A's late claim of q (older than the delete) lands now.
  const late = gated.release();
  await waitFor('a’s late writes settled', () => gated.settled() >= late);
  expect(await owner(store, '10.4.1.1', 'ha')).toBe('!not_found');
  await waitFor('a logs that it was deposed', () =>
    logA.lines().some((l) => String(l.msg).startsWith('deposed')),
  );
  // B writes on.
  api.addPod(podObject({ name: 'p', namespace: 'n', ip: '10.4.1.2' }));
  await waitFor('b writes', async () => (await owner(store, '10.4.1.2', 'ha')) === 'n/p');
  expect(a.leading).toBe(false);
});

it('a leader whose store epoch is overtaken steps down, and its next term fences above it', async () => {
  const logA = memoryLogger();
  const a = replica('a', { logger: logA });
  await waitFor('a leads', () => a.leading);
  await a.watcher()!.ready;
  // Another writer fences the cluster at 50 (or the Lease was re-created, restarting its count).
  expect((await store.fence('ha', 50)).ok).toBe(true);
  await waitFor('a is deposed', () => logA.lines().some((l) => String(l.msg).startsWith('deposed')));
  // The Lease still names a: it takes a new term, numbered above the store's epoch.
  await waitFor(
    'a leads a new term',
    () => Number(api.getLease('podgate', 'watcher')?.spec.leaseTransitions ?? 0) >= 50,
  );
  await waitFor('a leads again', () => a.leading && a.watcher()?.status().synced === true);
  api.addPod(podObject({ name: 'p', namespace: 'n', ip: '10.4.2.1' }));
  await waitFor('a writes again', async () => (await owner(store, '10.4.2.1', 'ha')) === 'n/p');
  // Writers that never fenced are refused from now on.
  await expect(store.heartbeat('ha', 1_000)).rejects.toMatchObject({ code: 'fenced' });
});
