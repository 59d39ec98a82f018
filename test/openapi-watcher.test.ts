// The watcher's OpenAPI document is checked against the real app: every documented path
// answers with a documented status, and every route the app serves is documented.
import { readFileSync } from 'node:fs';
import { createWatcherApp } from '@podgate/watcher';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const doc = parse(readFileSync(new URL('../docs/openapi/watcher.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, { get: { responses: Record<string, unknown> } }>;
};

function app(ready: boolean) {
  const registry = new Registry();
  return createWatcherApp({
    probe: { readiness: () => ({ ready, detail: { watcher: { cluster: 'c', synced: ready } } }) },
    registry,
  });
}

describe('docs/openapi/watcher.yaml', () => {
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

  it('readiness bodies carry the documented status values', async () => {
    expect(await (await app(true).request('/readyz')).json()).toMatchObject({ status: 'ready' });
    expect(await (await app(false).request('/readyz')).json()).toMatchObject({ status: 'not ready' });
  });
});
