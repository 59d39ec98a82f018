import { type IdentityWriter, MemoryIdentityStore, type PodRecord } from '@podgate/identity';
import { systemClock } from '@podgate/runtime';
import { memoryLogger, owner, waitFor } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import { PodView } from './pod-view.js';
import { StoreWriter } from './store-writer.js';

const rec = (uid: string, ip: string, rv: number): PodRecord => ({
  uid,
  name: uid,
  namespace: 'ns',
  annotations: {},
  errorCode: '',
  errorMessage: '',
  ips: [ip],
  resourceVersion: String(rv),
});

/** The real memory store behind random delays, recording overlapping writes per pod. */
function slowStore(inner: MemoryIdentityStore) {
  const inFlight = new Map<string, number>();
  let overlaps = 0;
  let down = false;
  const delay = () => new Promise((r) => setTimeout(r, Math.random() * 3));
  const track = async (uid: string, write: () => Promise<void>) => {
    if (down) throw new Error('store down');
    const n = (inFlight.get(uid) ?? 0) + 1;
    inFlight.set(uid, n);
    if (n > 1) overlaps++;
    try {
      await delay();
      await write();
    } finally {
      inFlight.set(uid, inFlight.get(uid)! - 1);
    }
  };
  const store: IdentityWriter = {
    claim: (c, r) => track(r.uid, () => inner.claim(c, r)),
    release: (c, uid, rv) => track(uid, () => inner.release(c, uid, rv)),
    reconcile: async (c, records, options) => {
      if (down) throw new Error('store down');
      return inner.reconcile(c, records, options);
    },
    heartbeat: (c, ttl) => inner.heartbeat(c, ttl),
    fence: (c, epoch) => inner.fence(c, epoch),
  };
  return {
    store,
    overlaps: () => overlaps,
    setDown: (v: boolean) => {
      down = v;
    },
  };
}

/** A writer over a slow, switchable store wrapping a memory store, fed from a view. */
async function setup() {
  const memory = new MemoryIdentityStore();
  await memory.heartbeat('c', 60_000);
  const slow = slowStore(memory);
  const view = new PodView();
  const writer = new StoreWriter({
    store: slow.store,
    cluster: 'c',
    snapshot: () => ({ records: view.records() }),
    clock: systemClock,
    logger: memoryLogger().logger,
    metrics: createMetrics(),
    backoff: { baseMs: 5, capMs: 20 },
  });
  return { memory, slow, view, writer };
}

describe('StoreWriter', () => {
  it('never overlaps two writes of one pod, and the newest state wins', async () => {
    const { memory, slow, view, writer } = await setup();
    view.replaceAll([]);
    writer.requestReconcile(Date.now());
    let rv = 1;
    for (let round = 0; round < 50; round++) {
      for (const uid of ['a', 'b', 'c']) {
        writer.enqueue(view.upsert(rec(uid, `10.0.${round}.${uid.charCodeAt(0)}`, ++rv)).ops, Date.now());
      }
      if (round % 7 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    expect(await writer.flush(5_000)).toBe(true);
    expect(slow.overlaps()).toBe(0);
    for (const uid of ['a', 'b', 'c']) {
      expect(await owner(memory, `10.0.49.${uid.charCodeAt(0)}`, 'c')).toBe(`ns/${uid}`);
      expect(await owner(memory, `10.0.48.${uid.charCodeAt(0)}`, 'c')).toBe('!not_found');
    }
    await writer.stop(100);
  });

  it('while the store is down: keeps retrying, then converges from the view', async () => {
    const { memory, slow, view, writer } = await setup();
    view.replaceAll([rec('a', '10.1.0.1', 1), rec('b', '10.1.0.2', 2)]);
    writer.requestReconcile(Date.now());
    await waitFor('synced', () => writer.initialSyncDone);
    slow.setDown(true);
    writer.enqueue(view.remove(rec('a', '10.1.0.1', 3)), Date.now());
    writer.enqueue(view.upsert(rec('c', '10.1.0.3', 4)).ops, Date.now());
    await waitFor('failing', () => writer.failing);
    expect(await owner(memory, '10.1.0.1', 'c')).toBe('ns/a');
    slow.setDown(false);
    await waitFor('recovered', () => !writer.failing && writer.backlog === 0);
    expect(await owner(memory, '10.1.0.1', 'c')).toBe('!not_found');
    expect(await owner(memory, '10.1.0.2', 'c')).toBe('ns/b');
    expect(await owner(memory, '10.1.0.3', 'c')).toBe('ns/c');
    await writer.stop(100);
  });
});
