// The proxy's OpenAPI document is checked against the real admin app: every documented path
// answers with a documented status, and every route the app serves is documented.
import { readFileSync } from 'node:fs';
import { createProxyAdminApp } from '@podgate/proxy';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const doc = parse(readFileSync(new URL('../docs/openapi/proxy.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, { get: { responses: Record<string, unknown> } }>;
  components: { schemas: { Readiness: { required: string[] } } };
};

function app(ready: boolean) {
  const detail = { listeners: 2, open_connections: 0, store: ready ? 'reachable' : 'unreachable: refused' };
  return createProxyAdminApp({ probe: { readiness: () => ({ ready, detail }) }, registry: new Registry() });
}

describe('docs/openapi/proxy.yaml', () => {
  it.each([true, false])('documents the status every path answers with (ready=%s)', async (ready) => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const res = await app(ready).request(path);
      expect(Object.keys(item.get.responses), path).toContain(String(res.status));
    }
  });

  it('documents every route the app serves', () => {
    const served = app(true)
      .routes.map((r) => r.path)
      .sort();
    expect(Object.keys(doc.paths).sort()).toEqual(served);
  });

  it('readiness bodies carry the documented fields', async () => {
    const body = (await (await app(false).request('/readyz')).json()) as Record<string, unknown>;
    for (const field of doc.components.schemas.Readiness.required) expect(body).toHaveProperty(field);
    expect(body.status).toBe('not ready');
  });
});
