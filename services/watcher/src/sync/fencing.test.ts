import { type IdentityWriter, MemoryIdentityStore } from '@podgate/identity';
import { systemClock } from '@podgate/runtime';
import { memoryLogger, owner } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import { fenceStore, SwitchableWriter } from './fencing.js';

const deps = (store: IdentityWriter, epoch: number, closing = () => false) => ({
  store,
  cluster: 'c',
  epoch,
  backoff: { baseMs: 5, capMs: 20 },
  clock: systemClock,
  logger: memoryLogger().logger,
  metrics: createMetrics(),
  signal: new AbortController().signal,
  closing,
});

describe('fenceStore', () => {
  it('fences at our epoch, and is refused below a newer one', async () => {
    const store = new MemoryIdentityStore();
    expect((await fenceStore(deps(store, 2))).kind).toBe('fenced');
    expect(await fenceStore(deps(store, 1))).toEqual({ kind: 'refused', epoch: 2 });
  });

  it('retries while the store fails, counting each failure', async () => {
    const store = new MemoryIdentityStore();
    let failures = 2;
    const flaky: IdentityWriter = {
      ...store,
      fence: (cluster, epoch) =>
        failures-- > 0 ? Promise.reject(new Error('down')) : store.fence(cluster, epoch),
    } as IdentityWriter;
    const d = deps(flaky, 3);
    expect((await fenceStore(d)).kind).toBe('fenced');
    expect((await d.metrics.storeErrors.get()).values[0]).toMatchObject({
      labels: { op: 'fence' },
      value: 2,
    });
  });

  it('gives up once the watcher is stopping', async () => {
    const down = { fence: () => Promise.reject(new Error('down')) } as unknown as IdentityWriter;
    let closing = false;
    setTimeout(() => {
      closing = true;
    }, 30);
    expect(await fenceStore(deps(down, 1, () => closing))).toEqual({ kind: 'closed' });
  });
});

describe('SwitchableWriter', () => {
  it('sends every write to its current target', async () => {
    const a = new MemoryIdentityStore();
    const b = new MemoryIdentityStore();
    const writes = new SwitchableWriter(a);
    writes.target = b;
    await writes.claim('c', {
      uid: 'u1',
      name: 'p',
      namespace: 'n',
      annotations: {},
      errorCode: '',
      errorMessage: '',
      ips: ['10.0.0.1'],
      resourceVersion: '1',
    });
    await writes.heartbeat('c', 60_000);
    expect(await owner(b, '10.0.0.1', 'c')).toBe('n/p');
    // `a` never heard of the cluster: no heartbeat, so nothing it could vouch for.
    expect(await owner(a, '10.0.0.1', 'c')).toBe('!stale_cluster');
  });
});
