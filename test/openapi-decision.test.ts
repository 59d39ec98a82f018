// The decision service's OpenAPI document against the real app: docs/openapi/decision.yaml is
// the document the app serves; every route the app serves is documented; every documented
// operation answers, for good requests and bad, with a status the document lists.
import { readFileSync } from 'node:fs';
import {
  createDecisionApp,
  DecisionMetrics,
  loadLiveConfig,
  OPENAPI_DOCUMENT,
  openApiYaml,
} from '@podgate/decision';
import { codesIn, ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from '@podgate/errors';
import { MemoryIdentityStore } from '@podgate/identity';
import { createRegistry } from '@podgate/runtime';
import { memoryLogger } from '@podgate/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER, E2E_PODS, EXAMPLE_CONFIG, TOKEN, tempFiles } from './decision-support.js';

const docPath = new URL('../docs/openapi/decision.yaml', import.meta.url);
const docText = readFileSync(docPath, 'utf8');
type Operation = { responses: Record<string, unknown> };
const doc = parse(docText) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'];

let app: ReturnType<typeof createDecisionApp>;
beforeAll(async () => {
  const files = tempFiles('openapi-decision-');
  const loaded = await loadLiveConfig({
    configFiles: [EXAMPLE_CONFIG],
    tokenFile: files.write('t', `${TOKEN}\n`),
  });
  if (!loaded.ok) throw new Error(loaded.reason);
  const live = loaded.value;
  const store = new MemoryIdentityStore();
  await store.reconcile(CLUSTER, E2E_PODS);
  await store.heartbeat(CLUSTER, 60_000);
  app = createDecisionApp({
    config: () => live,
    store,
    clusters: [CLUSTER],
    trustedProxies: null,
    maxBodyBytes: 4096,
    logger: memoryLogger().logger,
    metrics: new DecisionMetrics(createRegistry()),
    readiness: () => ({
      ready: true,
      detail: { store: 'reachable', endpoints: live.policy.endpoints.length },
    }),
  });
});

/** Hono's pattern as OpenAPI writes it: `:ip` -> `{ip}`, a trailing `/*` -> `/{path}`. */
const openApiPath = (pattern: string) => pattern.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}');

describe('docs/openapi/decision.yaml', () => {
  it('is the document the app serves (regenerate: node --import tsx -e "import(\'@podgate/decision\').then(m => process.stdout.write(m.openApiYaml()))" > docs/openapi/decision.yaml)', async () => {
    expect(docText).toBe(openApiYaml());
    expect(await (await app.request('/openapi.yaml')).text()).toBe(docText);
    expect(await (await app.request('/openapi.json')).json()).toEqual(
      JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)),
    );
    expect(parse(docText)).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  });

  it('documents every route the app serves, and nothing it does not', () => {
    const served = new Set<string>();
    const fallbacks: string[] = [];
    for (const route of app.routes) {
      const path = openApiPath(route.path);
      if (route.method !== 'ALL') served.add(`${route.method.toLowerCase()} ${path}`);
      else if (path.startsWith('/v1/forward-auth')) for (const m of METHODS) served.add(`${m} ${path}`);
      else fallbacks.push(route.path === '/*' || route.path === '/v1/*' ? route.path : path);
    }
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`)),
    );
    expect([...documented].sort()).toEqual([...served].sort());
    // The rest are middleware ('*', '/v1/*') and the 405 answers of documented paths.
    for (const path of fallbacks) expect(['/*', '/v1/*', ...Object.keys(doc.paths)]).toContain(path);
  });

  it('lists every status each operation answers, for good requests and bad', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const decide = (body: unknown) => ({ method: 'POST', headers: json, body: JSON.stringify(body) });
    const fa = (q: string, method = 'GET', peer = '127.0.0.2'): [string, RequestInit, string] => [
      `/v1/forward-auth${q}`,
      { method, headers: auth },
      peer,
    ];
    const cases: Array<[string, string, string, RequestInit, string?]> = [
      ['/healthz', 'get', '/healthz', {}],
      ['/readyz', 'get', '/readyz', {}],
      ['/metrics', 'get', '/metrics', {}],
      ['/openapi.json', 'get', '/openapi.json', {}],
      ['/openapi.yaml', 'get', '/openapi.yaml', {}],
      [
        '/v1/decisions',
        'post',
        '/v1/decisions',
        decide({ endpoint: 'tcp://ledger.payments:5432', client_ip: '127.0.0.2' }),
      ],
      ['/v1/decisions', 'post', '/v1/decisions', decide({ endpoint: 'tcp://ledger.payments:5432' })],
      ['/v1/decisions', 'post', '/v1/decisions', decide({ endpoint: 'tcp://x.y:1', client_ip: '127.0.0.2' })],
      [
        '/v1/decisions',
        'post',
        '/v1/decisions',
        decide({ endpoint: 'x', client_ip: '1', pad: 'x'.repeat(5000) }),
      ],
      ['/v1/decisions', 'post', '/v1/decisions', { method: 'POST', body: '{}' }],
      ['/v1/decisions', 'post', '/v1/decisions', { method: 'GET', headers: auth }],
      ['/v1/identities/{ip}', 'get', '/v1/identities/127.0.0.2', { headers: auth }],
      ['/v1/identities/{ip}', 'get', '/v1/identities/nope', { headers: auth }],
      ['/v1/identities/{ip}', 'get', '/v1/identities/127.0.0.2', { method: 'PUT', headers: auth }],
      [
        '/v1/validate',
        'post',
        '/v1/validate',
        { method: 'POST', headers: auth, body: 'on_tcp_connect: []\n' },
      ],
      ['/v1/validate', 'post', '/v1/validate', { method: 'POST', headers: auth, body: 'kind: Nope\n' }],
      ['/v1/validate', 'post', '/v1/validate', { method: 'POST', headers: auth, body: '' }],
      ['/v1/validate', 'post', '/v1/validate', { method: 'POST', headers: auth, body: 'x'.repeat(5000) }],
    ];
    const forwardAuth = [
      fa('?endpoint=tcp://ledger.payments:5432'),
      fa('?endpoint=tcp://ledger.payments:5432', 'PATCH', '127.0.0.3'),
      fa('?endpoint=tcp://status.payments:8080', 'POST'),
      fa(''),
      fa('?endpoint=tcp://x.y:1', 'DELETE'),
    ];
    for (const [path, init, peer] of forwardAuth) {
      const method = (init.method ?? 'GET').toLowerCase();
      cases.push(['/v1/forward-auth', method, path, init, peer]);
      cases.push([
        '/v1/forward-auth/{path}',
        method,
        path.replace('forward-auth', 'forward-auth/a/b'),
        init,
        peer,
      ]);
    }
    const seen = new Set<number>();
    for (const [docPath, method, url, init, peer = '127.0.0.2'] of cases) {
      const res = await app.request(url, init, {
        incoming: { socket: { remoteAddress: peer, remotePort: 5 } },
      });
      seen.add(res.status);
      const operation = doc.paths[docPath]?.[method];
      expect(operation, `${method} ${docPath}`).toBeDefined();
      expect(Object.keys(operation!.responses), `${init.method ?? 'GET'} ${url}`).toContain(
        String(res.status),
      );
    }
    // The cases reach every status of the table's HTTP codes but 404 (no documented path
    // answers it: an unknown one does, below), 500 and 503 (nothing here fails).
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const status = (ERROR_CODES[code] as ErrorCodeInfo).status;
      if (status !== undefined && ![404, 500, 503].includes(status)) expect(seen, code).toContain(status);
    }
    const unknown = await app.request('/v2/anything');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'route_not_found' } });
  });

  it("names every error code of the API's area in its Error schema", () => {
    const schema = doc.components.schemas.Error as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    for (const code of codesIn('http')) expect(schema.properties.error.properties.code.enum).toContain(code);
  });
});
