import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCounter } from '../metrics.js';
import { createAdminApp } from './admin.js';

function app(ready: boolean) {
  const registry = new Registry();
  createCounter(registry, 'podgate_test_total', 'A test counter.').inc(3);
  return createAdminApp({
    probe: { readiness: () => ({ ready, detail: { why: ready ? 'ok' : 'syncing' } }) },
    registry,
  });
}

describe('the admin app', () => {
  it('/healthz answers while the process lives, ready or not', async () => {
    const res = await app(false).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when the probe says ready, 503 otherwise, with its detail', async () => {
    const ready = await app(true).request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', why: 'ok' });
    const notReady = await app(false).request('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', why: 'syncing' });
  });

  it('/metrics serves the registry as Prometheus text', async () => {
    const res = await app(true).request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(/^podgate_test_total 3$/m);
  });

  it('takes the routes a service adds, and answers 404 elsewhere', async () => {
    const a = app(true);
    a.get('/extra', (c) => c.text('mine'));
    expect(await (await a.request('/extra')).text()).toBe('mine');
    expect((await a.request('/nope')).status).toBe(404);
  });
});
