// The decision service's tests: a configuration with a fail-closed, a fail-open, an
// annotation and a dry-run endpoint; pods on the embedded store (a real store, the same
// contract as Redis); and the app built in-process with a captured log and its own metrics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore, type PodRecord } from '@podgate/identity';
import { loadPolicyFiles } from '@podgate/policy';
import { createRegistry, type Readiness } from '@podgate/runtime';
import { memoryLogger } from '@podgate/test-support';
import { parseTokenFile, type TokenSet } from '../src/auth/tokens.js';
import { parseDecisionConfig } from '../src/config.js';
import { createDecisionApp } from '../src/http/app.js';
import type { LiveConfig } from '../src/live-config.js';
import { DecisionMetrics } from '../src/metrics.js';
import { type DecisionService, startDecisionService } from '../src/service.js';
import type { Validator } from '../src/validate/pool.js';

export const CLUSTER = 'test';

/** A JSON answer, read loosely: the tests check its shape with matchers. */
// biome-ignore lint/suspicious/noExplicitAny: JSON of any shape, asserted field by field
export type JsonAnswer = any;
export const TOKEN = 'test-token-0123456789abcdef';

const policy = (rules: string) => rules.replace(/^/gm, '      ');

export const CONFIG = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: ledger-internal, namespace: payments}
spec:
  url: tcp://ledger.payments.internal:5432
  upstream: {url: tcp://127.0.0.1:15432}
---
# Fail-closed: only pods of namespace payments.
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: ledger, namespace: payments}
spec:
  url: tcp://ledger.payments:5432
  bindings: [kubernetes]
  trafficPolicy:
    policy:
${policy(`on_tcp_connect:
  - expressions: ['conn.k8s.pod.metadata.error_code != ""']
    actions: [{type: deny}]
  - expressions: ['conn.k8s.pod.metadata.namespace != "payments"']
    actions: [{type: deny}]
  - actions:
      - type: forward-internal
        config: {url: tcp://ledger.payments.internal:5432}`)}
---
# Fail-open: found pods of other namespaces are refused, unknown clients pass.
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: status, namespace: payments}
spec:
  url: tcp://status.payments:8080
  bindings: [kubernetes]
  upstream: {url: tcp://127.0.0.1:18080}
  trafficPolicy:
    inline:
${policy(`on_tcp_connect:
  - expressions: ['conn.k8s.pod.metadata.error_code == "" && conn.k8s.pod.metadata.namespace != "payments"']
    actions: [{type: deny}]`)}
---
# Annotated production only; a pod without the annotation is an evaluation error: denied.
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: reports, namespace: payments}
spec:
  url: http://reports.payments
  bindings: [kubernetes]
  trafficPolicy:
    policy:
${policy(`on_tcp_connect:
  - expressions: ['conn.k8s.pod.metadata.error_code != ""']
    actions: [{type: deny}]
  - expressions: ['conn.k8s.pod.metadata.annotations["k8s.ngrok.com/environment"] != "production"']
    actions: [{type: deny}]
  - actions:
      - type: log
        config:
          metadata: {pod: '\${conn.k8s.pod.metadata.namespace}/\${conn.k8s.pod.metadata.name}'}
      - type: forward-internal
        config: {url: tcp://ledger.payments.internal:5432}`)}
---
# The ledger's policy in dry run: evaluated and reported, never enforced.
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: shadow
  namespace: payments
  annotations: {podgate.io/dry-run: "true"}
spec:
  url: tcp://shadow.payments:5432
  bindings: [kubernetes]
  trafficPolicy:
    policy:
${policy(`on_tcp_connect:
  - expressions: ['conn.k8s.pod.metadata.error_code != ""']
    actions: [{type: deny}]
  - expressions: ['conn.k8s.pod.metadata.namespace != "payments"']
    actions: [{type: deny}]
  - actions:
      - type: forward-internal
        config: {url: tcp://ledger.payments.internal:5432}`)}
`;

export function record(
  uid: string,
  ips: string[],
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
): PodRecord {
  return { uid, name, namespace, annotations, errorCode: '', errorMessage: '', ips, resourceVersion: '1' };
}

export const PODS: PodRecord[] = [
  record('uid-worker', ['10.1.0.1', '2001:db8::1'], 'payments', 'worker-a', {
    'k8s.ngrok.com/environment': 'production',
  }),
  record('uid-frontend', ['10.1.0.2'], 'web', 'frontend'),
  record('uid-batch', ['10.1.0.3'], 'payments', 'batch'),
];

export function loadTestConfig(text = CONFIG, tokens: TokenSet | null = tokenSet(TOKEN)): LiveConfig {
  const result = loadPolicyFiles([{ path: 'test.yaml', text }]);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return { policy: result.config, tokens, warnings: [] };
}

export function tokenSet(...tokens: string[]): TokenSet {
  const parsed = parseTokenFile(tokens.join('\n'), 'tokens');
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.tokens;
}

export async function podStore(pods: PodRecord[] = PODS): Promise<MemoryIdentityStore> {
  const store = new MemoryIdentityStore();
  await store.reconcile(CLUSTER, pods);
  await store.heartbeat(CLUSTER, 3_600_000);
  return store;
}

export interface TestAppOptions {
  live?: LiveConfig;
  trusted?: { contains(ip: string): boolean } | null;
  maxBodyBytes?: number;
  ready?: Readiness;
  store?: MemoryIdentityStore;
  validator?: Validator;
}

/** The app in-process; `request` sends from `peer` (the TCP peer @hono/node-server would report). */
export async function testApp(options: TestAppOptions = {}) {
  const store = options.store ?? (await podStore());
  const { logger, lines } = memoryLogger();
  const registry = createRegistry();
  const metrics = new DecisionMetrics(registry);
  let live = options.live ?? loadTestConfig();
  const app = createDecisionApp({
    config: () => live,
    store,
    clusters: [CLUSTER],
    trustedProxies: options.trusted ?? null,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    logger,
    metrics,
    readiness: () => options.ready ?? { ready: true, detail: { store: 'reachable' } },
    ...(options.validator !== undefined ? { validator: options.validator } : {}),
  });
  const request = (
    path: string,
    init: RequestInit & { auth?: string | null } = {},
    peer: { ip: string; port?: number } = { ip: '127.0.0.1' },
  ) => {
    const headers = new Headers(init.headers);
    const auth = init.auth === undefined ? `Bearer ${TOKEN}` : init.auth;
    if (auth !== null && !headers.has('authorization')) headers.set('authorization', auth);
    return app.request(
      path,
      { ...init, headers },
      {
        incoming: { socket: { remoteAddress: peer.ip, remotePort: peer.port ?? 41000 } },
      },
    );
  };
  const decide = async (body: unknown) => {
    const res = await request('/v1/decisions', { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as JsonAnswer };
  };
  return {
    app,
    store,
    registry,
    lines,
    request,
    decide,
    setLive: (next: LiveConfig) => {
      live = next;
    },
    metricsText: () => registry.metrics(),
  };
}

/**
 * The decision service over a real socket on 127.0.0.1 (CONFIG, TOKEN, the fixture pods), for
 * tests that write requests byte for byte: what the in-process app cannot see. `stop` removes
 * its files too.
 */
export async function startServiceOnSocket(
  options: { trustedProxies?: string } = {},
): Promise<{ service: DecisionService; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'decision-socket-'));
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  writeFileSync(join(dir, 'tokens'), `${TOKEN}\n`);
  const parsed = parseDecisionConfig({
    configFiles: [join(dir, 'config.yaml')],
    tokenFile: join(dir, 'tokens'),
    listen: '127.0.0.1:0',
    ...(options.trustedProxies !== undefined ? { trustedProxies: options.trustedProxies } : {}),
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const service = await startDecisionService(parsed.config, {
    store: await podStore(),
    clusters: [CLUSTER],
    logger: memoryLogger().logger,
  });
  return {
    service,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
