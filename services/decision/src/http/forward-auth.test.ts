// /v1/forward-auth in-process: allow and deny with the identity headers, every method and path
// suffix, how the endpoint is named and how a client could try to pick another, and who the
// client is behind trusted and untrusted proxies.
import { parseCidrList } from '@podgate/runtime';
import { describe, expect, it } from 'vitest';
import { podStore, record, testApp } from '../../test/fixtures.js';

const LEDGER = 'tcp://ledger.payments:5432';
const at = (endpoint = LEDGER) => `/v1/forward-auth?endpoint=${encodeURIComponent(endpoint)}`;
const trusted = (() => {
  const parsed = parseCidrList('127.0.0.1/32,::1');
  if (!parsed.ok) throw new Error('cidr');
  return parsed.list;
})();

describe('/v1/forward-auth', () => {
  it('allows the pod the policy allows: 200, no body, its identity in X-Podgate-* headers', async () => {
    const t = await testApp();
    const res = await t.request(at(), {}, { ip: '10.1.0.1' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('x-podgate')))).toEqual({
      'x-podgate-pod-name': 'worker-a',
      'x-podgate-pod-namespace': 'payments',
      'x-podgate-pod-id': 'uid-worker',
      'x-podgate-cluster': 'test',
      'x-podgate-dry-run-verdict': '',
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('denies with 403 access_denied, telling the client nothing of the policy or identity', async () => {
    const t = await testApp();
    const res = await t.request(at(), {}, { ip: '10.1.0.2' });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-podgate-pod-name')).toBeNull();
    expect(await res.json()).toEqual({
      error: { code: 'access_denied', message: "denied by the endpoint's policy" },
    });
    // A verdict, not an error: counted as a decision.
    const metrics = await t.metricsText();
    expect(metrics).toMatch(
      /podgate_decision_decisions_total\{[^}]*route="forward_auth",outcome="denied"\} 1$/m,
    );
    expect(metrics).not.toMatch(/errors_total\{code="access_denied"\}/);
  });

  it('answers any method, and any path below it (Envoy appends the original path)', async () => {
    const t = await testApp();
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const path of ['/v1/forward-auth', '/v1/forward-auth/', '/v1/forward-auth/api/v2/items/7']) {
        const res = await t.request(
          path,
          { method, headers: { 'x-podgate-endpoint': LEDGER } },
          { ip: '10.1.0.1' },
        );
        expect(res.status, `${method} ${path}`).toBe(200);
      }
    }
    expect((await t.request('/v1/forward-authz', {}, { ip: '10.1.0.1' })).status).toBe(404);
  });

  it('lets an unknown client through a fail-open endpoint, with empty identity headers', async () => {
    const t = await testApp();
    const res = await t.request(at('tcp://status.payments:8080'), {}, { ip: '10.9.9.9' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-podgate-pod-name')).toBe('');
    expect(res.headers.get('x-podgate-pod-id')).toBe('');
  });

  it('allows on a dry-run endpoint with the would-be verdict in X-Podgate-Dry-Run-Verdict', async () => {
    const t = await testApp();
    const refused = await t.request(at('tcp://shadow.payments:5432'), {}, { ip: '10.1.0.2' });
    expect(refused.status).toBe(200);
    expect(refused.headers.get('x-podgate-dry-run-verdict')).toBe('deny');
    expect(refused.headers.get('x-podgate-pod-namespace')).toBe('web');
    const allowed = await t.request(at('tcp://shadow.payments:5432'), {}, { ip: '10.1.0.1' });
    expect(allowed.headers.get('x-podgate-dry-run-verdict')).toBe('allow');
    expect(
      t
        .lines()
        .filter((l) => l.msg === 'decision')
        .map((l) => l.dry_run),
    ).toEqual([{ verdict: 'deny' }, { verdict: 'allow' }]);
  });

  // Envoy's allowed_upstream_headers (x-podgate-*) and Caddy's copy_headers set on the upstream
  // request only the headers the answer carries: a client's own X-Podgate-Dry-Run-Verdict
  // reached the upstream whenever the endpoint was not in dry run (Caddy 2.6 sent its
  // placeholder's text instead). Sent empty then, as the identity headers are when unknown.
  it('always carries X-Podgate-Dry-Run-Verdict on an allow, empty off dry run, so a proxy replaces a client copy', async () => {
    const t = await testApp();
    for (const [endpoint, ip] of [
      [LEDGER, '10.1.0.1'],
      ['tcp://status.payments:8080', '10.9.9.9'],
    ] as const) {
      const res = await t.request(
        at(endpoint),
        { headers: { 'x-podgate-dry-run-verdict': 'allow' } },
        { ip },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-podgate-dry-run-verdict'), endpoint).toBe('');
    }
  });

  it('never reads the body a proxy may send', async () => {
    const t = await testApp({ maxBodyBytes: 16 });
    const res = await t.request(at(), { method: 'POST', body: 'x'.repeat(10_000) }, { ip: '10.1.0.1' });
    expect(res.status).toBe(200);
  });

  it('percent-encodes identity values that could not be sent as they are', async () => {
    const store = await podStore([record('uid-ü', ['10.1.0.9'], 'payments', 'wörker\r\nx-evil: 1')]);
    const t = await testApp({ store });
    const res = await t.request(at(), {}, { ip: '10.1.0.9' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-podgate-pod-name')).toBe(encodeURIComponent('wörker\r\nx-evil: 1'));
    expect(res.headers.get('x-evil')).toBeNull();
  });
});

describe('/v1/forward-auth: which endpoint', () => {
  const ask = async (path: string, headers: Record<string, string> | Headers = {}) => {
    const t = await testApp();
    const res = await t.request(path, { headers }, { ip: '10.1.0.2' });
    return {
      status: res.status,
      body: (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null,
    };
  };

  it('takes the X-Podgate-Endpoint header or the endpoint query parameter', async () => {
    expect(
      (await ask('/v1/forward-auth', { 'x-podgate-endpoint': 'tcp://status.payments:8080' })).status,
    ).toBe(403);
    expect((await ask(at('tcp://shadow.payments:5432'))).status).toBe(200);
    // Both, naming the same endpoint in two spellings.
    const both = await ask(at('TCP://Ledger.Payments:5432'), { 'x-podgate-endpoint': LEDGER });
    expect(both.status).toBe(403);
  });

  it('refuses both naming different endpoints: a client cannot swap in a lenient one', async () => {
    for (const [path, header] of [
      [at(LEDGER), 'tcp://shadow.payments:5432'],
      [at('tcp://shadow.payments:5432'), LEDGER],
    ] as const) {
      const res = await ask(path, { 'x-podgate-endpoint': header });
      expect(res.status).toBe(400);
      expect(res.body?.error).toMatchObject({ code: 'invalid_request', message: /name different endpoints/ });
    }
  });

  it('refuses an endpoint given twice', async () => {
    const twice = await ask(`${at(LEDGER)}&endpoint=${encodeURIComponent('tcp://shadow.payments:5432')}`);
    expect(twice.body?.error).toMatchObject({ code: 'invalid_request', message: /given 2 times/ });
    const headers = new Headers();
    headers.append('x-podgate-endpoint', LEDGER);
    headers.append('x-podgate-endpoint', 'tcp://shadow.payments:5432');
    const repeated = await ask('/v1/forward-auth', headers);
    expect(repeated.body?.error).toMatchObject({ code: 'invalid_request', message: /more than once/ });
  });

  it('refuses no endpoint (400) and an unknown one (422)', async () => {
    expect((await ask('/v1/forward-auth')).body?.error?.code).toBe('invalid_request');
    const unknown = await ask(at('tcp://nowhere.payments:1'));
    expect(unknown.status).toBe(422);
    expect(unknown.body?.error?.code).toBe('unknown_endpoint');
    expect((await ask('/v1/forward-auth', { 'x-podgate-endpoint': '' })).status).toBe(400);
  });
});

describe('/v1/forward-auth: who the client is', () => {
  const decideFor = async (
    peer: string,
    headers: Record<string, string>,
    trustedProxies: typeof trusted | null = trusted,
  ) => {
    const t = await testApp({ trusted: trustedProxies });
    const res = await t.request(at(), { headers }, { ip: peer, port: 50123 });
    const line = t.lines().find((l) => l.msg === 'decision');
    return { status: res.status, name: res.headers.get('x-podgate-pod-name'), line, res };
  };

  it('is the TCP peer when no proxy is trusted, whatever the headers say', async () => {
    const forged = await decideFor(
      '10.1.0.2',
      { 'x-forwarded-for': '10.1.0.1', 'x-real-ip': '10.1.0.1' },
      null,
    );
    expect(forged.status).toBe(403);
    expect(forged.line).toMatchObject({ client: { ip: '10.1.0.2', port: 50123, from: 'peer' } });
  });

  it('is the TCP peer when the peer is not a trusted proxy', async () => {
    const forged = await decideFor('10.1.0.2', { 'x-forwarded-for': '10.1.0.1' });
    expect(forged.status).toBe(403);
    expect(forged.line).toMatchObject({ client: { from: 'peer' }, peer: { ip: '10.1.0.2' } });
  });

  it('is the address a trusted proxy appended, not one the client forged on the left', async () => {
    const honest = await decideFor('127.0.0.1', { 'x-forwarded-for': '10.1.0.1' });
    expect(honest).toMatchObject({ status: 200, name: 'worker-a' });
    expect(honest.line).toMatchObject({
      client: { ip: '10.1.0.1', from: 'x-forwarded-for' },
      peer: { ip: '127.0.0.1' },
    });
    const forged = await decideFor('127.0.0.1', { 'x-forwarded-for': '10.1.0.1, 10.1.0.2' });
    expect(forged.status).toBe(403);
    expect(forged.line).toMatchObject({ client: { ip: '10.1.0.2' } });
    const hops = await decideFor('127.0.0.1', { 'x-forwarded-for': '10.1.0.2, 10.1.0.1, 127.0.0.1, ::1' });
    expect(hops).toMatchObject({ status: 200, name: 'worker-a' });
  });

  it('falls back to X-Real-IP from a trusted proxy', async () => {
    const real = await decideFor('127.0.0.1', { 'x-real-ip': '10.1.0.1' });
    expect(real).toMatchObject({ status: 200, name: 'worker-a' });
    expect(real.line).toMatchObject({ client: { from: 'x-real-ip' } });
  });

  it('refuses a trusted proxy header that is not an address where it counts (400)', async () => {
    const bad = await decideFor('127.0.0.1', { 'x-forwarded-for': '10.1.0.1, bogus' });
    expect(bad.status).toBe(400);
    expect(((await bad.res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('reads an IPv4-mapped IPv6 peer as its IPv4 address (a dual-stack listener)', async () => {
    const mapped = await decideFor('::ffff:10.1.0.1', {}, null);
    expect(mapped).toMatchObject({ status: 200, name: 'worker-a' });
    expect(mapped.line).toMatchObject({ client: { ip: '10.1.0.1' }, peer: { ip: '10.1.0.1' } });
    const trustedMapped = await decideFor('::ffff:127.0.0.1', { 'x-forwarded-for': '10.1.0.1' });
    expect(trustedMapped).toMatchObject({ status: 200, name: 'worker-a' });
  });

  it('logs the request id a proxy sends', async () => {
    const { line } = await decideFor('127.0.0.1', {
      'x-forwarded-for': '10.1.0.1',
      'x-request-id': 'abc-123',
    });
    expect(line).toMatchObject({ request_id: 'abc-123', route: 'forward_auth', verdict: 'allow' });
    const { line: unsafe } = await decideFor('127.0.0.1', {
      'x-forwarded-for': '10.1.0.1',
      'x-request-id': 'a b"c',
    });
    expect(unsafe?.request_id).toBeUndefined();
  });
});
