import { describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from './memory-store.js';
import type { PodRecord } from './model.js';
import { describeStoreContract, record } from './store.contract.js';
import { isDataLost } from './store.js';

describeStoreContract('memory', () => {
  let now = 1_000_000;
  const stores = new Map<string, MemoryIdentityStore>();
  return {
    open: async (prefix) => {
      let store = stores.get(prefix);
      if (store === undefined) {
        store = new MemoryIdentityStore({ now: () => now });
        stores.set(prefix, store);
      }
      return store;
    },
    sync: async () => {},
    elapse: async (ms) => {
      now += ms;
    },
    loseData: async (prefix) => {
      stores.get(prefix)?.loseData();
    },
  };
});

describe('memory store: data lost during a reconcile', () => {
  it('fails the reconcile (its writes before the loss are gone too); the next one rewrites everything', async () => {
    let loseAfter = 1;
    const store = new (class extends MemoryIdentityStore {
      override async claimAt(cluster: string, r: PodRecord, epoch: number): Promise<void> {
        await super.claimAt(cluster, r, epoch);
        if (--loseAfter === 0) this.loseData();
      }
    })();
    const pods = [record('p', ['10.0.0.1'], '5'), record('q', ['10.0.0.2'], '6')];
    await expect(store.reconcile('a', pods)).rejects.toSatisfy(isDataLost);
    // p was written, then lost; q was written after the loss: only q is in the store. (This
    // store has completed no reconcile yet, so its heartbeat vouches for nothing.)
    await store.heartbeat('a', 60_000);
    expect((await store.lookup('10.0.0.1', ['a'])).ok).toBe(false);
    // The next complete reconcile rewrites both, and the heartbeat now vouches for them.
    await store.reconcile('a', pods);
    await store.heartbeat('a', 60_000);
    for (const ip of ['10.0.0.1', '10.0.0.2']) expect((await store.lookup(ip, ['a'])).ok).toBe(true);
    store.loseData();
    await expect(store.heartbeat('a', 60_000)).rejects.toSatisfy(isDataLost);
  });
});
