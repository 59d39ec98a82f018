// The proxy's admin HTTP interface: /healthz, /readyz (configured, listening, the store
// reachable), /metrics. Documented in docs/openapi/proxy.yaml (checked by a test). It serves
// no traffic and exposes no identity data.
import { type AdminDeps, createAdminApp } from '@podgate/runtime';
import type { Hono } from 'hono';

export function createProxyAdminApp(deps: AdminDeps): Hono {
  return createAdminApp(deps);
}
