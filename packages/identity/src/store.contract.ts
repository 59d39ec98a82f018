// One contract, run against every IdentityStore (memory, Redis, Redis Cluster).
// Each test uses its own key prefix, so Redis-backed runs share one server safely.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { derivePodRecord } from './derive.js';
import { ERR_NOT_FOUND, ERR_TOO_LARGE, type LookupResult, type PodRecord } from './model.js';
import { type IdentityStore, type IdentityWriter, isDataLost } from './store.js';

export interface StoreBackend {
  /** A store on `keyPrefix`; two stores opened on one prefix share their data. */
  open(keyPrefix: string): Promise<IdentityStore>;
  /** Makes heartbeats written so far visible to `store`'s reader. */
  sync(store: IdentityStore): Promise<void>;
  /** Lets `ms` pass: the memory backend advances its clock, Redis backends let real time run. */
  elapse(ms: number): Promise<void>;
  /**
   * Loses everything stored for `clusters` on `keyPrefix` (entries, index, heartbeat, epoch,
   * sync marker), as a Redis restarted without persistence does; the stores stay open.
   */
  loseData(keyPrefix: string, clusters: readonly string[]): Promise<void>;
}

const LONG_TTL = 60_000;
const SHORT_TTL = 300;
let prefixCounter = 0;

export function record(uid: string, ips: string[], rv: string, extra: Partial<PodRecord> = {}): PodRecord {
  return {
    uid,
    name: `pod-${uid}`,
    namespace: 'payments',
    annotations: { 'k8s.ngrok.com/environment': 'production' },
    errorCode: '',
    errorMessage: '',
    ips,
    resourceVersion: rv,
    ...extra,
  };
}

/** Polls `check` until it stops throwing, or fails with its last error after `timeoutMs`. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const uidOf = (r: LookupResult) => (r.ok ? r.identity.uid : `<${r.reason}>`);

async function fenced(writer: IdentityWriter, cluster: string, epoch: number): Promise<IdentityWriter> {
  const result = await writer.fence(cluster, epoch);
  if (!result.ok) throw new Error(`fence(${cluster}, ${epoch}) refused: stored epoch ${result.epoch}`);
  return result.writer;
}
const FENCED = { name: 'IdentityError', code: 'fenced' };

export function describeStoreContract(name: string, backend: () => StoreBackend): void {
  describe(`IdentityStore contract: ${name}`, () => {
    const opened: IdentityStore[] = [];
    let b: StoreBackend;

    /** A store on a prefix of its own, with clusters a and b heartbeating. */
    async function fresh(clusters: string[] = ['a', 'b'], prefix = `t${++prefixCounter}-${process.pid}:`) {
      const store = await b.open(prefix);
      opened.push(store);
      for (const c of clusters) await store.heartbeat(c, LONG_TTL);
      await b.sync(store);
      return { store, prefix };
    }
    const who = async (store: IdentityStore, ip: string, clusters = ['a']) =>
      uidOf(await store.lookup(ip, clusters));

    beforeEach(() => {
      b = backend();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('claims an IP and returns the full identity; an unclaimed IP is not_found', async () => {
      const { store } = await fresh();
      await store.claim('a', record('u1', ['10.0.0.1'], '5'));
      expect(await store.lookup('10.0.0.1', ['a'])).toEqual({
        ok: true,
        identity: {
          cluster: 'a',
          uid: 'u1',
          name: 'pod-u1',
          namespace: 'payments',
          annotations: { 'k8s.ngrok.com/environment': 'production' },
          errorCode: '',
          errorMessage: '',
        },
      });
      const missing = await store.lookup('10.0.0.2', ['a']);
      expect(missing).toMatchObject({ ok: false, errorCode: ERR_NOT_FOUND, reason: 'not_found' });
    });

    it('treats other spellings of an address as the same address', async () => {
      const { store } = await fresh();
      await store.claim('a', record('u1', ['::ffff:10.0.0.7', 'FD00:0:0::7'], '1'));
      expect(await who(store, '10.0.0.7')).toBe('u1');
      expect(await who(store, '0:0:0:0:0:ffff:a00:7')).toBe('u1');
      expect(await who(store, 'fd00::7')).toBe('u1');
    });

    it('keeps a truncated identity with its ERR_NGROK_28000', async () => {
      const { store } = await fresh();
      const message = 'Pod identity metadata too large: annotations exceed the 1024-byte limit (2000 bytes)';
      await store.claim(
        'a',
        record('u1', ['10.0.0.1'], '1', { errorCode: ERR_TOO_LARGE, errorMessage: message }),
      );
      expect(await store.lookup('10.0.0.1', ['a'])).toMatchObject({
        ok: true,
        identity: { errorCode: ERR_TOO_LARGE, errorMessage: message },
      });
    });

    it('IP reuse, delete before add: the new pod owns the IP', async () => {
      const { store } = await fresh();
      await store.claim('a', record('old', ['10.0.0.1'], '5'));
      await store.release('a', 'old', '6');
      expect((await store.lookup('10.0.0.1', ['a'])).ok).toBe(false);
      await store.claim('a', record('new', ['10.0.0.1'], '7'));
      expect(await who(store, '10.0.0.1')).toBe('new');
    });

    it('IP reuse, add before delete: ambiguous until the old pod is released', async () => {
      const { store } = await fresh();
      await store.claim('a', record('old', ['10.0.0.1'], '5'));
      await store.claim('a', record('new', ['10.0.0.1'], '7'));
      expect(await store.lookup('10.0.0.1', ['a'])).toMatchObject({ ok: false, reason: 'ambiguous' });
      await store.release('a', 'old', '8');
      expect(await who(store, '10.0.0.1')).toBe('new');
    });

    it('a release never removes another pod’s claim on the same IP', async () => {
      const { store } = await fresh();
      await store.claim('a', record('new', ['10.0.0.1'], '7'));
      await store.release('a', 'old', '99');
      await store.release('a', 'old', '99');
      expect(await who(store, '10.0.0.1')).toBe('new');
    });

    it('duplicate events are harmless', async () => {
      const { store } = await fresh();
      const r = record('u1', ['10.0.0.1'], '5');
      await store.claim('a', r);
      await store.claim('a', r);
      expect(await who(store, '10.0.0.1')).toBe('u1');
      await store.release('a', 'u1', '6');
      await store.release('a', 'u1', '6');
      expect(await who(store, '10.0.0.1')).toBe('<not_found>');
    });

    it('a late older event never replaces a newer one', async () => {
      const { store } = await fresh();
      await store.claim('a', record('u1', ['10.0.0.1'], '10', { name: 'newer' }));
      await store.claim('a', record('u1', ['10.0.0.1'], '9', { name: 'older' }));
      await store.claim('a', record('u1', ['10.0.0.2'], '8'));
      const r = await store.lookup('10.0.0.1', ['a']);
      expect(r.ok && r.identity.name).toBe('newer');
      expect(await who(store, '10.0.0.2')).toBe('<not_found>');
      // Numeric, not lexical: 10 is newer than 9.
      await store.claim('a', record('u1', ['10.0.0.1'], '11', { name: 'newest' }));
      const r2 = await store.lookup('10.0.0.1', ['a']);
      expect(r2.ok && r2.identity.name).toBe('newest');
    });

    it('a late claim after the release cannot resurrect the pod', async () => {
      const { store } = await fresh();
      await store.claim('a', record('u1', ['10.0.0.1'], '5'));
      await store.release('a', 'u1', '7');
      await store.claim('a', record('u1', ['10.0.0.1'], '5'));
      await store.claim('a', record('u1', ['10.0.0.1'], '7'));
      expect(await who(store, '10.0.0.1')).toBe('<not_found>');
      // A late older release after a newer claim does nothing either.
      await store.claim('a', record('u2', ['10.0.0.3'], '20'));
      await store.release('a', 'u2', '19');
      expect(await who(store, '10.0.0.3')).toBe('u2');
    });

    it('a pod recreated with the same name and a new UID is a new identity', async () => {
      const { store } = await fresh();
      await store.claim('a', record('uid-1', ['10.0.0.1'], '5', { name: 'web-0' }));
      await store.claim('a', record('uid-2', ['10.0.0.1'], '9', { name: 'web-0' }));
      expect(await who(store, '10.0.0.1')).toBe('<ambiguous>');
      await store.release('a', 'uid-1', '10');
      expect(await who(store, '10.0.0.1')).toBe('uid-2');
    });

    it('an IP moving between pods follows its owner', async () => {
      const { store } = await fresh();
      await store.claim('a', record('u1', ['10.0.0.1'], '5'));
      await store.claim('a', record('u1', ['10.0.0.2'], '6'));
      expect(await who(store, '10.0.0.1')).toBe('<not_found>');
      expect(await who(store, '10.0.0.2')).toBe('u1');
      await store.claim('a', record('u2', ['10.0.0.1'], '7'));
      expect(await who(store, '10.0.0.1')).toBe('u2');
    });

    it('dual-stack pods resolve on both addresses; a record with no IPs releases them', async () => {
      const { store } = await fresh();
      await store.claim('a', record('u1', ['10.0.0.5', 'fd00::5'], '5'));
      expect(await who(store, '10.0.0.5')).toBe('u1');
      expect(await who(store, 'fd00::5')).toBe('u1');
      await store.claim('a', record('u1', [], '6'));
      expect(await who(store, '10.0.0.5')).toBe('<not_found>');
      expect(await who(store, 'fd00::5')).toBe('<not_found>');
    });

    it('hostNetwork and terminal pods own no IP', async () => {
      const { store } = await fresh();
      const pod = (uid: string, rv: string, phase: string, hostNetwork = false) => ({
        metadata: { uid, name: uid, namespace: 'ns', resourceVersion: rv },
        spec: { hostNetwork },
        status: { phase, podIP: '10.0.1.1', podIPs: [{ ip: '10.0.1.1' }] },
      });
      await store.claim('a', derivePodRecord(pod('host', '1', 'Running', true)));
      expect(await who(store, '10.0.1.1')).toBe('<not_found>');
      await store.claim('a', derivePodRecord(pod('job', '2', 'Running')));
      expect(await who(store, '10.0.1.1')).toBe('job');
      await store.claim('a', derivePodRecord(pod('job', '3', 'Succeeded')));
      expect(await who(store, '10.0.1.1')).toBe('<not_found>');
      await store.claim('a', derivePodRecord(pod('failed', '4', 'Failed')));
      expect(await who(store, '10.0.1.1')).toBe('<not_found>');
    });

    it('clusters sharing a store: each reader consults its own; an IP in two consulted clusters is ambiguous', async () => {
      const { store } = await fresh();
      await store.claim('a', record('ua', ['10.0.0.1'], '5'));
      expect(await who(store, '10.0.0.1', ['b'])).toBe('<not_found>');
      await store.claim('b', record('ub', ['10.0.0.1'], '3'));
      expect(await who(store, '10.0.0.1', ['a'])).toBe('ua');
      expect(await who(store, '10.0.0.1', ['b'])).toBe('ub');
      expect(await who(store, '10.0.0.1', ['a', 'b'])).toBe('<ambiguous>');
      const r = await store.lookup('10.0.0.1', ['b']);
      expect(r.ok && r.identity.cluster).toBe('b');
      // Releasing in one cluster leaves the other's claim alone.
      await store.release('b', 'ua', '100');
      expect(await who(store, '10.0.0.1', ['a'])).toBe('ua');
    });

    it('reconcile makes the cluster’s claims equal the listing, and leaves other clusters alone', async () => {
      const { store } = await fresh();
      await store.claim('a', record('keep', ['10.0.0.1'], '5'));
      await store.claim('a', record('moved', ['10.0.0.2'], '6'));
      await store.claim('a', record('gone', ['10.0.0.3', 'fd00::3'], '7'));
      await store.claim('b', record('other', ['10.0.0.3'], '2'));
      const stats = await store.reconcile('a', [
        record('keep', ['10.0.0.1'], '5'),
        record('moved', ['10.0.0.4'], '9'),
        record('added', ['10.0.0.5'], '10'),
      ]);
      // 10.0.0.2 was released by the claim of `moved`; the sweep removes both IPs of `gone`.
      expect(stats).toEqual({ claimed: 3, removed: 2 });
      expect(await who(store, '10.0.0.1')).toBe('keep');
      expect(await who(store, '10.0.0.2')).toBe('<not_found>');
      expect(await who(store, '10.0.0.3')).toBe('<not_found>');
      expect(await who(store, 'fd00::3')).toBe('<not_found>');
      expect(await who(store, '10.0.0.4')).toBe('moved');
      expect(await who(store, '10.0.0.5')).toBe('added');
      expect(await who(store, '10.0.0.3', ['b'])).toBe('other');
      // A later listing drops `moved` and `added`; repeating it changes nothing.
      const later = [record('keep', ['10.0.0.1'], '20')];
      expect(await store.reconcile('a', later)).toEqual({ claimed: 1, removed: 2 });
      expect(await store.reconcile('a', later)).toEqual({ claimed: 1, removed: 0 });
      expect(await who(store, '10.0.0.1')).toBe('keep');
    });

    it('reconcile keeps claims written after the listing (newer than everything listed)', async () => {
      const { store } = await fresh();
      await store.claim('a', record('late', ['10.0.0.9'], '50'));
      await store.reconcile('a', [record('listed', ['10.0.0.1'], '40')]);
      expect(await who(store, '10.0.0.9')).toBe('late');
      expect(await who(store, '10.0.0.1')).toBe('listed');
      // An empty listing is complete by definition: everything goes.
      await store.reconcile('a', []);
      expect(await who(store, '10.0.0.9')).toBe('<not_found>');
    });

    it('reconcile given the listing version removes the newest pod deleted before the listing', async () => {
      const { store } = await fresh();
      await store.claim('a', record('stays', ['10.0.0.1'], '40'));
      // The newest object; deleted at 47 while no watcher ran. The listing is at 50.
      await store.claim('a', record('deleted', ['10.0.0.2', 'fd00::2'], '45'));
      // Written by an event after the listing.
      await store.claim('a', record('late', ['10.0.0.3'], '60'));
      const listing = [record('stays', ['10.0.0.1'], '40')];
      // Without a (decimal) listing version the bound is the newest listed record (40).
      expect(await store.reconcile('a', listing)).toEqual({ claimed: 1, removed: 0 });
      expect(await store.reconcile('a', listing, { listingVersion: 'opaque' })).toEqual({
        claimed: 1,
        removed: 0,
      });
      expect(await who(store, '10.0.0.2')).toBe('deleted');
      expect(await store.reconcile('a', listing, { listingVersion: '50' })).toEqual({
        claimed: 1,
        removed: 2,
      });
      expect(await who(store, '10.0.0.2')).toBe('<not_found>');
      expect(await who(store, 'fd00::2')).toBe('<not_found>');
      expect(await who(store, '10.0.0.3')).toBe('late');
      expect(await who(store, '10.0.0.1')).toBe('stays');
      // A later listing that lacks `late` removes it.
      expect(await store.reconcile('a', listing, { listingVersion: '70' })).toEqual({
        claimed: 1,
        removed: 1,
      });
      expect(await who(store, '10.0.0.3')).toBe('<not_found>');
    });

    it('claims of a cluster that never heartbeated, or stopped, do not count', async () => {
      const { store } = await fresh([]);
      await store.claim('a', record('u1', ['10.0.0.1'], '5'));
      expect(await who(store, '10.0.0.1')).toBe('<stale_cluster>');
      expect(await who(store, '10.0.0.2')).toBe('<stale_cluster>');
      await store.heartbeat('a', SHORT_TTL);
      await b.sync(store);
      expect(await who(store, '10.0.0.1')).toBe('u1');
      await b.elapse(SHORT_TTL + 1);
      await eventually(async () => {
        await b.sync(store);
        expect(await who(store, '10.0.0.1')).toBe('<stale_cluster>');
      });
      await store.heartbeat('a', LONG_TTL);
      await b.sync(store);
      expect(await who(store, '10.0.0.1')).toBe('u1');
    });

    // A Redis restarted empty between two heartbeats: the writer's client reconnects, so no
    // write of its fails; its next heartbeat must not mark the empty cluster fresh.
    it('refuses the heartbeat of a writer whose reconciled data the store lost, until it reconciles again', async () => {
      const { store, prefix } = await fresh([]);
      const p = record('p', ['10.0.0.1'], '5');
      await store.reconcile('a', [p], { listingVersion: '10' });
      await store.heartbeat('a', LONG_TTL);
      await b.sync(store);
      expect(await who(store, '10.0.0.1')).toBe('p');

      await b.loseData(prefix, ['a']);
      await expect(store.heartbeat('a', LONG_TTL)).rejects.toMatchObject({
        name: 'IdentityError',
        code: 'store_unavailable',
        message: expect.stringMatching(/data is gone/),
      });
      await expect(store.heartbeat('a', LONG_TTL)).rejects.toSatisfy(isDataLost);
      await b.sync(store);
      // Stale (the policy's fail-closed/fail-open choice), never fresh-and-empty (not_found).
      expect(await who(store, '10.0.0.1')).toBe('<stale_cluster>');

      await store.reconcile('a', [p], { listingVersion: '10' });
      await store.heartbeat('a', LONG_TTL);
      await b.sync(store);
      expect(await who(store, '10.0.0.1')).toBe('p');
    });

    it('a fenced writer loses its data the same way, and its next reconcile restores the fence', async () => {
      const { store, prefix } = await fresh([]);
      const w = await fenced(store, 'a', 3);
      await w.reconcile('a', [record('p', ['10.0.0.1'], '5')]);
      await w.heartbeat('a', LONG_TTL);
      await b.loseData(prefix, ['a']);
      await expect(w.heartbeat('a', LONG_TTL)).rejects.toSatisfy(isDataLost);
      await w.reconcile('a', [record('p', ['10.0.0.1'], '5')]);
      await w.heartbeat('a', LONG_TTL);
      // The reconcile wrote the epoch back: an unfenced writer is refused again.
      await expect(store.heartbeat('a', LONG_TTL)).rejects.toMatchObject(FENCED);
    });

    it('a writer that never reconciled a cluster vouches for nothing: its heartbeat is written', async () => {
      const { store, prefix } = await fresh([]);
      await store.claim('a', record('p', ['10.0.0.1'], '5'));
      await store.heartbeat('a', LONG_TTL);
      await b.loseData(prefix, ['a']);
      await store.heartbeat('a', LONG_TTL);
      await b.sync(store);
      expect(await who(store, '10.0.0.1')).toBe('<not_found>');
    });

    it('says whether a cluster stopped heartbeating or was never written at all (a misspelt name)', async () => {
      const { store } = await fresh(['a']);
      await store.claim('a', record('ua', ['10.0.0.1'], '5'));
      const never = await store.lookup('10.0.0.1', ['typo']);
      expect(never).toMatchObject({ ok: false, reason: 'stale_cluster' });
      expect(!never.ok && never.message).toMatch(/no watcher has ever written cluster typo/);
      expect(!never.ok && never.message).not.toMatch(/heartbeat in time/);
      // Records but no heartbeat: a watcher wrote it, then stopped.
      await store.claim('b', record('ub', ['10.0.0.2'], '5'));
      await b.sync(store);
      const stopped = await store.lookup('10.0.0.9', ['b']);
      expect(!stopped.ok && stopped.message).toMatch(/watcher of cluster b has not sent a heartbeat in time/);
      expect(!stopped.ok && stopped.message).not.toMatch(/ever written/);
      const both = await store.lookup('10.0.0.9', ['b', 'typo']);
      expect(!both.ok && both.message).toMatch(
        /cluster b has not sent .*; no watcher has ever written cluster typo/,
      );
    });

    it('a fresh cluster still answers when another consulted cluster is stale', async () => {
      const { store } = await fresh(['a']);
      await store.claim('a', record('ua', ['10.0.0.1'], '5'));
      await store.claim('b', record('ub', ['10.0.0.1'], '5'));
      expect(await who(store, '10.0.0.1', ['a', 'b'])).toBe('ua');
      expect(await who(store, '10.0.0.1', ['b'])).toBe('<stale_cluster>');
    });

    it('a key prefix isolates two deployments', async () => {
      const one = await fresh();
      const two = await fresh();
      await one.store.claim('a', record('u1', ['10.0.0.1'], '5'));
      expect(await who(one.store, '10.0.0.1')).toBe('u1');
      expect(await who(two.store, '10.0.0.1')).toBe('<not_found>');
      const twin = await b.open(one.prefix);
      opened.push(twin);
      await b.sync(twin);
      expect(await who(twin, '10.0.0.1')).toBe('u1');
    });

    it('refuses a heartbeat TTL that is not a positive integer of ms (no unbounded trust)', async () => {
      const { store } = await fresh([]);
      for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(store.heartbeat('a', ttl)).rejects.toThrow(/positive integer/);
      }
      await store.claim('a', record('u1', ['10.0.0.1'], '5'));
      await b.sync(store);
      expect(await who(store, '10.0.0.1')).toBe('<stale_cluster>');
    });

    it('reconcile leaves a listed pod’s newer state (written after the listing) alone', async () => {
      const cluster = 'prod.eu-1_x';
      const { store } = await fresh([cluster]);
      await store.claim(cluster, record('u1', ['10.0.0.1'], '40'));
      // Events after the listing: u1 moved to 10.0.0.2 and 2001:db8::2; u2 was deleted.
      await store.claim(cluster, record('u2', ['10.0.0.3'], '41'));
      await store.claim(cluster, record('u1', ['10.0.0.2', '2001:db8::2'], '60'));
      await store.release(cluster, 'u2', '61');
      const listing = [record('u1', ['10.0.0.1'], '40'), record('u2', ['10.0.0.3'], '41')];
      expect(await store.reconcile(cluster, listing, { listingVersion: '50' })).toEqual({
        claimed: 2,
        removed: 0,
      });
      expect(await who(store, '10.0.0.1', [cluster])).toBe('<not_found>');
      expect(await who(store, '10.0.0.2', [cluster])).toBe('u1');
      expect(await who(store, '2001:db8::2', [cluster])).toBe('u1');
      expect(await who(store, '10.0.0.3', [cluster])).toBe('<not_found>');
      // The tombstone (61) survived the reconcile: a late claim at the listed version stays refused.
      await store.claim(cluster, record('u2', ['10.0.0.3'], '41'));
      expect(await who(store, '10.0.0.3', [cluster])).toBe('<not_found>');
    });

    it('fencing: a deposed writer’s late claim cannot resurrect a pod the new writer reconciled away', async () => {
      const { store, prefix } = await fresh();
      // Writer A leads at epoch 1: q is claimed, then deleted at 150 (a tombstone).
      const a = await fenced(store, 'a', 1);
      await a.claim('a', record('q', ['10.0.0.1'], '100'));
      await a.claim('a', record('p', ['10.0.0.2'], '120'));
      await a.release('a', 'q', '150');
      // Writer B (another process) takes over at epoch 2 and reconciles a listing at 200:
      // q is not in it, so its tombstone (150) is dropped.
      const twin = await b.open(prefix);
      opened.push(twin);
      const bw = await fenced(twin, 'a', 2);
      await bw.reconcile('a', [record('p', ['10.0.0.2'], '120')], { listingVersion: '200' });
      // A's watch lags: "q modified at 130" arrives now. Nothing but the epoch refuses it.
      await expect(a.claim('a', record('q', ['10.0.0.1'], '130'))).rejects.toMatchObject(FENCED);
      expect(await who(store, '10.0.0.1')).toBe('<not_found>');
      // Every other write of A is refused too, and A cannot fence back at its old epoch.
      await expect(a.release('a', 'p', '300')).rejects.toMatchObject(FENCED);
      await expect(a.reconcile('a', [], { listingVersion: '300' })).rejects.toMatchObject(FENCED);
      await expect(a.heartbeat('a', LONG_TTL)).rejects.toMatchObject(FENCED);
      expect(await a.fence('a', 1)).toEqual({ ok: false, epoch: 2 });
      expect(await who(store, '10.0.0.2')).toBe('p');
      // A writer that never fenced is refused once the cluster is fenced; other clusters are not.
      await expect(store.claim('a', record('r', ['10.0.0.3'], '210'))).rejects.toMatchObject(FENCED);
      await expect(store.heartbeat('a', LONG_TTL)).rejects.toMatchObject(FENCED);
      await store.claim('b', record('r', ['10.0.0.3'], '210'));
      expect(await who(store, '10.0.0.3', ['b'])).toBe('r');
      // B's writes go through; its reconcile keeps the epoch (it is no pod).
      await bw.claim('a', record('s', ['10.0.0.4'], '220'));
      await bw.heartbeat('a', LONG_TTL);
      await bw.reconcile('a', [], { listingVersion: '230' });
      expect(await who(store, '10.0.0.4')).toBe('<not_found>');
      await bw.claim('a', record('t', ['10.0.0.5'], '240'));
      expect(await who(store, '10.0.0.5')).toBe('t');
      await expect(a.claim('a', record('q', ['10.0.0.1'], '245'))).rejects.toMatchObject(FENCED);
      // A later term (epoch 3) deposes B in turn; re-fencing at one's own epoch is allowed.
      const again = await fenced(bw, 'a', 2);
      const c = await fenced(store, 'a', 3);
      await expect(again.claim('a', record('t', ['10.0.0.6'], '250'))).rejects.toMatchObject(FENCED);
      await c.claim('a', record('t', ['10.0.0.6'], '250'));
      expect(await who(store, '10.0.0.6')).toBe('t');
    });

    it('fencing: refuses epochs that are not positive integers, and the reserved pod UID', async () => {
      const { store } = await fresh();
      for (const epoch of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
        await expect(store.fence('a', epoch)).rejects.toThrow(/positive integer/);
      }
      await expect(store.fence('a/b', 1)).rejects.toThrow(/cluster name/);
      await expect(store.claim('a', record('~epoch', ['10.0.0.1'], '1'))).rejects.toThrow(/reserved/);
      await expect(store.release('a', '~epoch', '1')).rejects.toThrow(/reserved/);
      expect(await who(store, '10.0.0.1')).toBe('<not_found>');
    });

    it('refuses cluster names that cannot scope keys; lookups never throw', async () => {
      const { store } = await fresh();
      await expect(store.claim('a/b', record('u1', ['10.0.0.1'], '1'))).rejects.toThrow(/cluster name/);
      await expect(store.heartbeat('{x}', 1000)).rejects.toThrow(/cluster name/);
      expect(await who(store, 'not-an-ip')).toBe('<not_found>');
      expect(await store.lookup('10.0.0.1', [])).toMatchObject({ ok: false, reason: 'not_found' });
    });
  });
}
