import { MemoryIdentityStore } from '@podgate/identity';
import { systemClock } from '@podgate/runtime';
import { memoryLogger, waitFor } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import { Heartbeat, type HeartbeatDeps } from './heartbeat.js';

function heartbeat(overrides: Partial<HeartbeatDeps> = {}) {
  const log = memoryLogger();
  const stopping = new AbortController();
  const events: string[] = [];
  let healthy = true;
  const beat = new Heartbeat({
    writes: new MemoryIdentityStore(),
    cluster: 'c',
    intervalMs: 20,
    ttlMs: 1_000,
    clock: systemClock,
    logger: log.logger,
    metrics: createMetrics(),
    signal: stopping.signal,
    healthy: () => healthy,
    describeHealth: () => ({ why: 'test' }),
    onBeat: () => events.push('beat'),
    onFenced: () => events.push('fenced'),
    onStoreFailure: () => events.push('store failure'),
    ...overrides,
  });
  return {
    beat,
    events,
    logs: log.lines,
    setHealthy: (value: boolean) => {
      healthy = value;
    },
    stop: async () => {
      stopping.abort();
      await beat.stop();
    },
  };
}

describe('Heartbeat', () => {
  it('beats every interval while healthy, stops (and says so) when not, starts again after', async () => {
    const h = heartbeat();
    h.beat.start();
    await waitFor('a heartbeat', () => h.beat.isHeartbeating());
    h.setHealthy(false);
    await waitFor('the heartbeat to stop', () => !h.beat.isHeartbeating());
    h.setHealthy(true);
    await waitFor('the heartbeat again', () => h.beat.isHeartbeating());
    await h.stop();
    expect(h.beat.isHeartbeating()).toBe(false);
    const messages = h.logs().map((l) => l.msg);
    expect(messages.filter((m) => m === 'heartbeat started')).toHaveLength(2);
    expect(messages).toContain(
      'heartbeat stopped: readers will treat this cluster as stale once the last one expires',
    );
  });

  it('a refused (fenced) heartbeat deposes; another failure marks the store as behind', async () => {
    const store = new MemoryIdentityStore();
    await store.fence('c', 5);
    const fenced = heartbeat({ writes: store, intervalMs: 60_000 });
    await fenced.beat.beat();
    expect(fenced.events).toEqual(['fenced']);
    const failing = heartbeat({
      writes: Object.assign(new MemoryIdentityStore(), {
        heartbeat: () => Promise.reject(new Error('down')),
      }),
      intervalMs: 60_000,
    });
    await failing.beat.beat();
    expect(failing.events).toEqual(['store failure']);
    expect(failing.beat.lastHeartbeatAt).toBeNull();
  });

  it('one heartbeat at a time: a request while one runs is served by it', async () => {
    let calls = 0;
    const h = heartbeat({
      writes: Object.assign(new MemoryIdentityStore(), {
        heartbeat: async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 20));
        },
      }),
      intervalMs: 60_000,
    });
    const first = h.beat.beat();
    expect(h.beat.beat()).toBe(first);
    await first;
    expect(calls).toBe(1);
    await h.stop();
  });
});
