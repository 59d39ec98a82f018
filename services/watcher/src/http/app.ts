// The watcher's HTTP app: the admin routes every service serves (@podgate/runtime's
// createAdminApp): /healthz, /readyz (first complete sync done and heartbeating, or a
// healthy standby), /metrics. Documented in docs/openapi/watcher.yaml.
import { type AdminDeps, createAdminApp } from '@podgate/runtime';
import type { Hono } from 'hono';

export function createWatcherApp(deps: AdminDeps): Hono {
  return createAdminApp(deps);
}
