// Interleavings only a multi-connection store has: two writers of one cluster at a leader
// handover (ADR 0003), an old leader's write held in flight while the new leader writes.
// A held script is not sent until the test releases it, so the order is exact, not timing
// luck; Redis runs it when it arrives, as it would a command delayed on the network.
// Each runs with the batched reconcile and the one-pod-at-a-time one.
import type { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisIdentityStore } from './redis-store.js';
import { record } from './store.contract.js';
import type { IdentityWriter } from './store.js';

type Client = Redis | Cluster;
type Script = (...args: string[]) => Promise<unknown>;
export type OpenRaceStore = (keyPrefix: string, reconcileBatchSize: number) => Promise<RedisIdentityStore>;

const clientOf = (store: RedisIdentityStore) => (store as unknown as { client: Client }).client;

interface Hold {
  /** Resolves when the held script has been called (and not sent). */
  reached: Promise<void>;
  /** Sends it. */
  release(): void;
}

/** Holds `store`'s next call of script `name` before it is sent, until `release()`. */
function holdNext(store: RedisIdentityStore, name: string): Hold {
  const client = clientOf(store) as unknown as Record<string, Script>;
  const original = client[name]!;
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => {
    reached = r;
  });
  const gate = new Promise<void>((r) => {
    release = r;
  });
  client[name] = async (...args: string[]) => {
    client[name] = original;
    reached();
    await gate;
    return original.apply(client, args);
  };
  return { reached: reachedP, release };
}

async function fenced(writer: IdentityWriter, cluster: string, epoch: number): Promise<IdentityWriter> {
  const result = await writer.fence(cluster, epoch);
  if (!result.ok) throw new Error(`fence(${cluster}, ${epoch}) refused at ${result.epoch}`);
  return result.writer;
}

const FENCED = { code: 'fenced' };
const X = '10.0.0.7';

export function describeRedisRaces(name: string, open: OpenRaceStore) {
  for (const batch of [0, 256]) {
    describe(`redis store races: ${name}, reconcile batch ${batch}`, () => {
      const opened: RedisIdentityStore[] = [];
      afterEach(async () => {
        await Promise.all(opened.splice(0).map((s) => s.close()));
      });
      let n = 0;
      /** Three store objects (three connections, as three watcher processes) on one prefix. */
      async function stores(): Promise<RedisIdentityStore[]> {
        const prefix = `race${process.pid}-${batch}-${n++}-${Date.now()}:`;
        const made = await Promise.all([open(prefix, batch), open(prefix, batch), open(prefix, batch)]);
        opened.push(...made);
        return made;
      }
      const who = async (store: RedisIdentityStore, writer: IdentityWriter) => {
        await writer.heartbeat('c', 60_000);
        await store.refreshFreshness();
        const r = await store.lookup(X, ['c']);
        return r.ok ? r.identity.name : `<${r.reason}>`;
      };

      // Issue: a deposed leader's sweep unindexed a new leader's claim, so a later reconcile
      // never found it: the deleted pod stayed the IP's identity for ever.
      it('a deposed leader’s reconcile stalled before its sweep cannot hide the new leader’s claim', async () => {
        const [a, b, c] = (await stores()) as [RedisIdentityStore, RedisIdentityStore, RedisIdentityStore];
        const w1 = await fenced(a, 'c', 1);
        await w1.claim('c', record('q', [X], '100', { name: 'q' }));
        await w1.release('c', 'q', '105');
        // The old leader's reconcile passes its epoch check and its claims, then stalls.
        const sweep = holdNext(a, 'podgateSweepIndex');
        const stalled = w1.reconcile('c', [], { listingVersion: '110' });
        await sweep.reached;

        const w2 = await fenced(b, 'c', 2);
        await w2.reconcile('c', [], { listingVersion: '120' });
        await w2.claim('c', record('p', [X], '130', { name: 'p' }));
        expect(await who(b, w2)).toBe('p');
        sweep.release();
        await expect(stalled).rejects.toMatchObject(FENCED);
        expect(await who(b, w2)).toBe('p');

        // p is deleted while no watcher runs; the next leader's listing lacks it.
        const w3 = await fenced(c, 'c', 3);
        await w3.reconcile('c', [], { listingVersion: '200' });
        expect(await who(c, w3)).toBe('<not_found>');
        await w3.reconcile('c', [], { listingVersion: '210' });
        expect(await who(c, w3)).toBe('<not_found>');
      });

      // Issue: an old leader's claim delayed across the new leader's reconcile landed on an IP
      // the new leader had already swept, and its process died before re-reading the entry.
      it('an old leader’s claim delayed past the new leader’s reconcile never becomes an identity', async () => {
        const [a, b] = (await stores()) as [RedisIdentityStore, RedisIdentityStore];
        const w1 = await fenced(a, 'c', 1);
        const claim = holdNext(a, 'podgateWritePod');
        const late = w1.claim('c', record('q', [X], '100', { name: 'q' }));
        await claim.reached;

        const w2 = await fenced(b, 'c', 2);
        await w2.reconcile('c', [], { listingVersion: '110' });
        claim.release();
        await expect(late).rejects.toMatchObject(FENCED);
        await a.close(); // the old leader dies
        expect(await who(b, w2)).toBe('<not_found>');
        await w2.reconcile('c', [], { listingVersion: '120' });
        expect(await who(b, w2)).toBe('<not_found>');
      });

      it('an old leader’s claim that lands before the fence is removed by the new leader’s reconcile', async () => {
        const [a, b] = (await stores()) as [RedisIdentityStore, RedisIdentityStore];
        const w1 = await fenced(a, 'c', 1);
        await w1.claim('c', record('q', [X], '100', { name: 'q' }));
        const w2 = await fenced(b, 'c', 2);
        expect(await who(b, w2)).toBe('q');
        await w2.reconcile('c', [], { listingVersion: '110' });
        expect(await who(b, w2)).toBe('<not_found>');
      });

      // Without epochs (one unelected writer per cluster, two processes during a restart),
      // the same orders still leave nothing behind: each write is one step on the pod entry.
      it('unfenced writers: a release racing a move leaves no stale claim', async () => {
        const [a, b] = (await stores()) as [RedisIdentityStore, RedisIdentityStore];
        await a.claim('c', record('u1', ['10.0.0.1'], '5', { name: 'u1' }));
        // The old writer moves u1 to X at 6, held in flight; the new one sees it deleted at 7.
        const move = holdNext(a, 'podgateWritePod');
        const late = a.claim('c', record('u1', [X], '6', { name: 'u1' }));
        await move.reached;
        await b.release('c', 'u1', '7');
        move.release();
        await late;
        expect(await who(b, b)).toBe('<not_found>');
        expect(await b.lookup('10.0.0.1', ['c'])).toMatchObject({ ok: false, reason: 'not_found' });
      });

      // Read the new IP first, then the old one, in one pipeline (Redis answers in order): if
      // both name the pod, the old IP still named it after the new one did.
      it('an IP move fails closed: the old IP never names the pod after the new one does', async () => {
        const [a, b] = (await stores()) as [RedisIdentityStore, RedisIdentityStore];
        await a.heartbeat('c', 60_000);
        await b.refreshFreshness();
        const ips = ['10.0.0.1', '10.0.0.2'];
        let samples = 0;
        for (let i = 0; i < 20; i++) {
          const from = ips[i % 2]!;
          const to = ips[(i + 1) % 2]!;
          const moving = a.claim('c', record('m', [to], String(10 + i), { name: 'm' }));
          let done = false;
          void moving.then(() => {
            done = true;
          });
          do {
            const [now, before] = await Promise.all([b.lookup(to, ['c']), b.lookup(from, ['c'])]);
            expect(now.ok && before.ok, `move ${i}: ${from} and ${to} both named the pod`).toBe(false);
            samples++;
          } while (!done);
          await moving;
          expect((await b.lookup(to, ['c'])).ok).toBe(true);
          expect((await b.lookup(from, ['c'])).ok).toBe(false);
        }
        expect(samples).toBeGreaterThanOrEqual(20);
      });
    });
  }
}
