// Health and metrics over HTTP: /healthz (the process is alive), /readyz (first complete
// sync done and heartbeating), /metrics (Prometheus text).
import { Hono } from 'hono';
import type { Registry } from 'prom-client';

export interface ProbeSource {
  /** Ready: the watcher is synced and heartbeating, or a healthy standby replica. */
  readiness(): { ready: boolean; detail: Record<string, unknown> };
}

export function createHttpApp(deps: { probe: ProbeSource; registry: Registry }): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const { ready, detail } = deps.probe.readiness();
    return c.json({ status: ready ? 'ready' : 'not ready', ...detail }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const body = await deps.registry.metrics();
    return c.text(body, 200, { 'content-type': deps.registry.contentType });
  });
  return app;
}
