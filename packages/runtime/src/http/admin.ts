// The admin app every service serves: /healthz (the process is alive), /readyz (what
// the service's probe says) and /metrics (Prometheus text of the service's registry).
// Built from its dependencies; a service adds its own routes to the returned app.
import { Hono } from 'hono';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Merged into the /readyz body: what a person needs to see why (not) ready. */
  detail: Record<string, unknown>;
}

export interface ProbeSource {
  readiness(): Readiness;
}

export interface AdminDeps {
  probe: ProbeSource;
  registry: Registry;
}

export function createAdminApp(deps: AdminDeps): Hono {
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
