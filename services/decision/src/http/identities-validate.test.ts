// GET /v1/identities/{ip} and POST /v1/validate in-process.
import { MemoryIdentityStore } from '@podgate/identity';
import { describe, expect, it } from 'vitest';
import { CLUSTER, CONFIG, type JsonAnswer, PODS, testApp } from '../../test/fixtures.js';
import type { ValidateResult, Validator } from '../validate/pool.js';

describe('GET /v1/identities/{ip}', () => {
  const get = async (path: string, store?: MemoryIdentityStore) => {
    const t = await testApp(store === undefined ? {} : { store });
    const res = await t.request(path);
    return { status: res.status, body: (await res.json()) as JsonAnswer };
  };

  it('answers the identity the policies would see', async () => {
    const { status, body } = await get('/v1/identities/10.1.0.1');
    expect(status).toBe(200);
    expect(body).toEqual({
      ip: '10.1.0.1',
      clusters: [CLUSTER],
      identity: {
        id: 'uid-worker',
        metadata: {
          name: 'worker-a',
          namespace: 'payments',
          annotations: { 'k8s.ngrok.com/environment': 'production' },
          error_code: '',
          error_message: '',
        },
        cluster: CLUSTER,
      },
      lookup: { found: true },
      lookup_ms: expect.any(Number),
    });
  });

  it('takes any spelling of the address, percent-encoded or not', async () => {
    for (const path of [
      '/v1/identities/::ffff:10.1.0.1',
      '/v1/identities/%3A%3Affff%3A10.1.0.1',
      '/v1/identities/2001:DB8::1',
    ]) {
      const { body } = await get(path);
      expect(body.identity.id, path).toBe('uid-worker');
    }
  });

  it('says why there is none: not found, ambiguous, stale cluster', async () => {
    const missing = await get('/v1/identities/10.9.9.9');
    expect(missing.status).toBe(200);
    expect(missing.body).toMatchObject({
      identity: {
        id: '',
        metadata: { error_code: 'ERR_NGROK_28001', error_message: /^Failed to retrieve pod identity/ },
      },
      lookup: { found: false, reason: 'not_found' },
    });

    const twice = new MemoryIdentityStore();
    await twice.reconcile(CLUSTER, [
      ...PODS,
      { ...PODS[1]!, uid: 'uid-other', name: 'other', resourceVersion: '2' },
    ]);
    await twice.heartbeat(CLUSTER, 60_000);
    expect((await get('/v1/identities/10.1.0.2', twice)).body.lookup).toMatchObject({
      found: false,
      reason: 'ambiguous',
    });

    let now = 1_000;
    const stale = new MemoryIdentityStore({ now: () => now });
    await stale.reconcile(CLUSTER, PODS);
    await stale.heartbeat(CLUSTER, 1_000);
    now += 5_000;
    expect((await get('/v1/identities/10.1.0.1', stale)).body.lookup).toMatchObject({
      found: false,
      reason: 'stale_cluster',
    });
    // store_unavailable: test/decision-redis-outage.test.ts stops a real Redis.
  });

  it.each(['nope', '10.1.0.256', 'fe80::1%25eth0', '10.0.0.0%2F8', '010.1.0.1', 'x'.repeat(500)])(
    'refuses %s: 400 invalid_ip',
    async (ip) => {
      const { status, body } = await get(`/v1/identities/${ip}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('invalid_ip');
      expect(body.error.message.length).toBeLessThan(200);
    },
  );

  it('takes GET only: 405 otherwise', async () => {
    const t = await testApp();
    const res = await t.request('/v1/identities/10.1.0.1', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('POST /v1/validate', () => {
  const validate = async (body: string, maxBodyBytes?: number) => {
    const t = await testApp(maxBodyBytes === undefined ? {} : { maxBodyBytes });
    const res = await t.request('/v1/validate', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/yaml' },
    });
    return { status: res.status, body: (await res.json()) as JsonAnswer };
  };

  it('200 when it loads: the endpoints (dry-run marked), the policies and the warnings', async () => {
    const { status, body } = await validate(CONFIG);
    expect(status).toBe(200);
    expect(body.valid).toBe(true);
    expect(body.endpoints).toHaveLength(5);
    expect(body.endpoints).toContainEqual({
      url: 'tcp://shadow.payments:5432',
      kind: 'CloudEndpoint',
      name: 'shadow',
      namespace: 'payments',
      dry_run: true,
    });
    expect(body.endpoints.filter((e: { dry_run: boolean }) => e.dry_run)).toHaveLength(1);
    expect(body.diagnostics).toEqual([]);
  });

  it('keeps the warning about an unquoted ! expression, placed as validate prints it', async () => {
    const seed = `on_tcp_connect:
  - expressions:
      - !(conn.k8s.pod.metadata.name in ["a", "b"])
    actions:
      - type: deny
  - actions:
      - type: close-connection
`;
    const { status, body } = await validate(seed);
    expect(status).toBe(200);
    expect(body.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        file: 'request.yaml',
        line: 3,
        text: expect.stringMatching(/^request\.yaml:3:\d+: warning: /),
      }),
    ]);
  });

  it('422 invalid_policy with every diagnostic: line, column, message, and the printed line', async () => {
    const bad = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: x, namespace: y}
spec:
  url: tcp://x.y:1
  trafficPolicy:
    policy:
      on_tcp_connect:
        - expressions: ['conn.k8s.pod.metadata.namspace == "a"']
          actions: [{type: deny}]
        - actions: [{type: no-such-action}]
`;
    const { status, body } = await validate(bad);
    expect(status).toBe(422);
    expect(body.error).toEqual({ code: 'invalid_policy', message: '2 errors; configuration refused' });
    expect(body.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'request.yaml',
        line: 9,
        message: expect.stringMatching(/namspace/),
      }),
      expect.objectContaining({
        severity: 'error',
        line: 11,
        message: expect.stringMatching(/no-such-action/),
      }),
    ]);
    for (const d of body.diagnostics)
      expect(d.text).toBe(`request.yaml:${d.line}:${d.column}: error: ${d.message}`);
  });

  it('refuses an empty body (400), garbage YAML (422) and an oversized one (413)', async () => {
    expect((await validate('')).body.error.code).toBe('invalid_request');
    const garbage = await validate('{{{ [[[ ::: \u0000');
    expect(garbage.status).toBe(422);
    expect(garbage.body.diagnostics.length).toBeGreaterThan(0);
    const big = await validate(`# ${'x'.repeat(5000)}\non_tcp_connect: []\n`, 4096);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('answers what the validation worker reports: limits (422), busy (503 with Retry-After), a failure (500, logged)', async () => {
    const reporting = (result: ValidateResult): Validator => ({
      validate: async () => result,
      close: async () => {},
      full: false,
      workersStarted: 0,
      limits: { timeoutMs: 1500, maxHeapBytes: 32 * 1024 * 1024 },
    });
    const post = async (result: ValidateResult) => {
      const t = await testApp({ validator: reporting(result) });
      const res = await t.request('/v1/validate', { method: 'POST', body: 'on_tcp_connect: []\n' });
      return {
        status: res.status,
        retry: res.headers.get('retry-after'),
        body: (await res.json()) as JsonAnswer,
        t,
      };
    };
    const time = await post({ kind: 'limit', reason: 'time' });
    expect([time.status, time.body.error]).toEqual([
      422,
      {
        code: 'validation_limit',
        message:
          'validation stopped after 1500 ms (--validate-timeout): the configuration takes too long to load here; split it, or run podgate validate on it',
      },
    ]);
    const memory = await post({ kind: 'limit', reason: 'memory' });
    expect(memory.body.error.message).toMatch(
      /^validation stopped: loading the configuration needed more than 32 MiB \(--validate-memory\)/,
    );
    const queue = await post({ kind: 'busy', reason: 'queue' });
    expect([queue.status, queue.retry, queue.body.error.code]).toEqual([503, '1', 'busy']);
    const stopping = await post({ kind: 'busy', reason: 'stopping' });
    expect(stopping.body.error.message).toMatch(/stopping/);
    const failed = await post({ kind: 'failed', message: 'the validation worker exited (code 9)' });
    expect([failed.status, failed.body.error.code]).toEqual([500, 'internal_error']);
    expect(JSON.stringify(failed.body)).not.toMatch(/code 9/);
    expect(failed.t.lines().some((l) => l.reason === 'the validation worker exited (code 9)')).toBe(true);
  });

  it('a full validator: 503 busy before the body is read', async () => {
    let asked = 0;
    const full: Validator = {
      validate: async () => {
        asked++;
        return { kind: 'busy', reason: 'queue' };
      },
      close: async () => {},
      full: true,
      workersStarted: 0,
      limits: { timeoutMs: 1, maxHeapBytes: 1 },
    };
    const t = await testApp({ validator: full });
    const res = await t.request('/v1/validate', { method: 'POST', body: 'on_tcp_connect: []\n' });
    expect([
      res.status,
      res.headers.get('retry-after'),
      ((await res.json()) as JsonAnswer).error.code,
    ]).toEqual([503, '1', 'busy']);
    expect(asked).toBe(0);
  });

  it('says how many diagnostics it left out', async () => {
    const t = await testApp();
    const res = await t.request('/v1/validate', { method: 'POST', body: '---\nx\n'.repeat(150) });
    const body = (await res.json()) as JsonAnswer;
    expect(res.status).toBe(422);
    expect(body.diagnostics).toHaveLength(100);
    expect(body.diagnostics_omitted).toBeGreaterThanOrEqual(50);
  });
});
