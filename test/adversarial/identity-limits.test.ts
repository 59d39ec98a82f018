// Identity limits end to end: hostile pods created on a fake Kubernetes API (real HTTP), listed
// and watched by the watcher into a real Redis, looked up as the proxy and the decision service
// do, and evaluated by the seed's annotation policy (which denies on any error_code). Annotation
// bombs (5,000 k8s.ngrok.com/ keys), multi-byte UTF-8 exactly at the 1024-byte limit and one
// byte over (a 4-byte character straddling it), names, namespaces and uids at and one byte
// over their limits. The unit tests of derive.ts cover the arithmetic; this covers the path.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRedisIdentityStore,
  type IdentityStore,
  type LookupResult,
  podVarsFromLookup,
} from '@podgate/identity';
import { loadPolicyFiles } from '@podgate/policy';
import {
  type FakeK8sApi,
  memoryLogger,
  podObject,
  type RedisServer,
  startFakeK8sApi,
  startRedis,
  waitFor,
} from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import { createMetrics, loadKubeAccess, type RunningWatcher, startWatcher } from '@podgate/watcher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLUSTER = 'limits';
const PREFIX = 'k8s.ngrok.com/';
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

let redis: RedisServer;
let api: FakeK8sApi;
let store: IdentityStore;
let watcher: RunningWatcher;
let dir: string;

const policy = loadPolicyFiles([
  {
    path: '06-annotation.yaml',
    text: readFileSync(new URL('../../examples/seed/06-annotation.yaml', import.meta.url), 'utf8'),
  },
]);
if (!policy.ok) throw new Error(JSON.stringify(policy.errors));
const endpoint = policy.config.endpoints[0]!;
const conn = {
  clientIp: '',
  clientPort: 40000,
  serverIp: '127.0.0.1',
  serverPort: 80,
  startedAt: new Date(),
};

function decide(result: LookupResult) {
  return endpoint.evaluateTcpConnect({ conn, pod: podVarsFromLookup(result) });
}

// Exactly 1024 bytes: key (14 + 1) + value of 504 two-byte characters and one ASCII byte.
const exactValue = `${'é'.repeat(504)}a`;
// One byte over, by a 4-byte character that straddles the limit.
const overValue = `${'é'.repeat(503)}😀`;
const bomb: Record<string, string> = { [`${PREFIX}environment`]: 'production' };
for (let i = 0; i < 5_000; i++) bomb[`${PREFIX}k${String(i).padStart(4, '0')}`] = 'v'.repeat(i % 40);

const pods = [
  { ip: '127.0.0.2', name: 'bomb', annotations: bomb },
  { ip: '127.0.0.3', name: 'exact', annotations: { [`${PREFIX}e`]: exactValue } },
  { ip: '127.0.0.4', name: 'over', annotations: { [`${PREFIX}e`]: overValue } },
  { ip: '127.0.0.5', name: 'n'.repeat(255) },
  // Not 'n' x 256: its record's name is cut to 255 bytes, the 255-byte pod's name, and the
  // watcher's view (keyed by namespace/name) would take it for that pod recreated
  // (docs/reliability-fuzz.md, "Findings").
  { ip: '127.0.0.6', name: 'm'.repeat(256) },
  { ip: '127.0.0.7', name: 'ns-at-limit', namespace: 's'.repeat(63) },
  { ip: '127.0.0.8', name: 'ns-over', namespace: 's'.repeat(64) },
  { ip: '127.0.0.9', name: 'uid-over', uid: `${'u'.repeat(37)}` },
  { ip: '127.0.0.10', name: 'uid-multibyte-over', uid: `${'é'.repeat(18)}u` },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'identity-limits-'));
  redis = await startRedis();
  api = await startFakeK8sApi();
  for (const p of pods) {
    api.addPod(
      podObject({
        name: p.name,
        namespace: p.namespace ?? 'shop',
        ip: p.ip,
        ...(p.uid ? { uid: p.uid } : {}),
        annotations: {
          ...(p.annotations ?? { [`${PREFIX}environment`]: 'production' }),
          'other.io/x': 'y'.repeat(5_000),
        },
      }),
    );
  }
  store = await createRedisIdentityStore({ url: redis.url, keyPrefix: 'limits:', freshnessRefreshMs: 50 });
  const access = await loadKubeAccess({ kubeconfigPath: api.writeKubeconfig(join(dir, 'kubeconfig')) });
  const { logger } = memoryLogger('warn');
  const metrics = createMetrics();
  watcher = startWatcher(
    { cluster: CLUSTER, heartbeatIntervalMs: 100, heartbeatTtlMs: 60_000, apiGraceMs: 60_000 },
    { store, source: testKubeSource(access, { logger, metrics }), logger, metrics },
  );
  await watcher.ready;
}, 60_000);

afterAll(async () => {
  await watcher?.stop();
  await store?.close();
  await api?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lookup = (ip: string) => store.lookup(ip, [CLUSTER]);

describe('identity limits, from the API server to a decision', () => {
  it('5,000 annotations: a deterministic subset within 1024 bytes, ERR_NGROK_28000, and the policy denies', async () => {
    const r = await lookup('127.0.0.2');
    if (!r.ok) throw new Error(r.message);
    const { annotations } = r.identity;
    const size = Object.entries(annotations).reduce((n, [k, v]) => n + utf8(k) + utf8(v), 0);
    expect(size).toBeLessThanOrEqual(1024);
    expect(Object.keys(annotations).every((k) => k.startsWith(PREFIX))).toBe(true);
    expect(r.identity.errorCode).toBe('ERR_NGROK_28000');
    expect(r.identity.errorMessage).toMatch(/1024-byte limit/);
    const d = decide(r);
    expect(d.allowed).toBe(false);
    expect(d.rule?.index).toBe(0);
  });

  it('multi-byte UTF-8 exactly at 1024 bytes: whole, no error, allowed only if the policy says so', async () => {
    const r = await lookup('127.0.0.3');
    if (!r.ok) throw new Error(r.message);
    expect(r.identity.annotations).toEqual({ [`${PREFIX}e`]: exactValue });
    expect(utf8(`${PREFIX}e`) + utf8(exactValue)).toBe(1024);
    expect(r.identity.errorCode).toBe('');
    // No environment annotation: strict CEL errors on the missing key, and fails closed.
    expect(decide(r).allowed).toBe(false);
  });

  it('one byte over (a 4-byte character straddling the limit): dropped, never cut mid-character', async () => {
    const r = await lookup('127.0.0.4');
    if (!r.ok) throw new Error(r.message);
    expect(utf8(`${PREFIX}e`) + utf8(overValue)).toBe(1025);
    expect(r.identity.annotations).toEqual({});
    expect(r.identity.errorCode).toBe('ERR_NGROK_28000');
    expect(decide(r).allowed).toBe(false);
  });

  it('a name of 255 bytes is the pod; 256 bytes owns no IP (never a truncated, look-alike name)', async () => {
    const at = await lookup('127.0.0.5');
    expect(at.ok && at.identity.name).toBe('n'.repeat(255));
    expect(decide(at).allowed).toBe(true);
    const over = await lookup('127.0.0.6');
    expect(over).toMatchObject({ ok: false, reason: 'not_found' });
    expect(decide(over).allowed).toBe(false);
  });

  it('a namespace of 63 bytes is the pod; 64 bytes owns no IP', async () => {
    const at = await lookup('127.0.0.7');
    expect(at.ok && at.identity.namespace).toBe('s'.repeat(63));
    expect(await lookup('127.0.0.8')).toMatchObject({ ok: false, reason: 'not_found' });
  });

  it('a uid of 37 bytes, or 37 bytes of 19 characters, owns no IP', async () => {
    expect(await lookup('127.0.0.9')).toMatchObject({ ok: false, reason: 'not_found' });
    expect(utf8(`${'é'.repeat(18)}u`)).toBe(37);
    expect(await lookup('127.0.0.10')).toMatchObject({ ok: false, reason: 'not_found' });
  });

  it('after all that the watcher keeps going: a new pod, and a bomb moved to an IP, are seen', async () => {
    api.addPod(
      podObject({
        name: 'after',
        namespace: 'shop',
        ip: '127.0.0.11',
        annotations: { [`${PREFIX}environment`]: 'production' },
      }),
    );
    api.updatePod('shop', 'bomb', (p) => {
      p.status = { ...p.status, podIP: '127.0.0.12', podIPs: [{ ip: '127.0.0.12' }] };
    });
    await waitFor('the new pod and the moved bomb', async () => {
      const [a, b, old] = await Promise.all([
        lookup('127.0.0.11'),
        lookup('127.0.0.12'),
        lookup('127.0.0.2'),
      ]);
      return a.ok && b.ok && b.identity.name === 'bomb' && !old.ok;
    });
    expect(decide(await lookup('127.0.0.11')).allowed).toBe(true);
    expect(watcher.status()).toMatchObject({ healthy: true, podsTracked: pods.length + 1 });
  });
});
