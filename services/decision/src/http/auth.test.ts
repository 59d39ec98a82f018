// Bearer tokens on everything under /v1; none on the probes, metrics and OpenAPI document.
import { describe, expect, it } from 'vitest';
import { loadTestConfig, TOKEN, testApp, tokenSet } from '../../test/fixtures.js';

const DECIDE = {
  method: 'POST',
  body: JSON.stringify({ endpoint: 'tcp://ledger.payments:5432', client_ip: '10.1.0.1' }),
};
const error = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe('authentication', () => {
  it('refuses /v1 without a token: 401 unauthorized with WWW-Authenticate: Bearer', async () => {
    const t = await testApp();
    for (const [path, init] of [
      ['/v1/decisions', DECIDE],
      ['/v1/identities/10.1.0.1', {}],
      ['/v1/validate', { method: 'POST', body: 'a: 1' }],
      ['/v1/forward-auth?endpoint=tcp://ledger.payments:5432', {}],
      ['/v1/forward-auth/some/path', { method: 'DELETE' }],
      ['/v1/nothing-here', {}],
    ] as const) {
      const res = await t.request(path, { ...init, auth: null });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="podgate"');
      expect(await error(res)).toEqual({
        code: 'unauthorized',
        message: 'a bearer token is required: Authorization: Bearer TOKEN',
      });
    }
    expect(await t.metricsText()).toMatch(/^podgate_decision_errors_total\{code="unauthorized"\} 6$/m);
  });

  it.each([
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['another scheme', `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`],
    ['the bare token', TOKEN],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s: 401 invalid_token', async (_what, auth) => {
    const t = await testApp();
    const res = await t.request('/v1/decisions', { ...DECIDE, auth });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="podgate", error="invalid_token"');
    expect((await error(res)).message).toBe('the bearer token is not valid');
  });

  it('takes any token of the file', async () => {
    const t = await testApp({ live: loadTestConfig(undefined, tokenSet('first-token-aaaaaaaa', TOKEN)) });
    expect(
      (await t.request('/v1/decisions', { ...DECIDE, auth: 'Bearer first-token-aaaaaaaa' })).status,
    ).toBe(200);
    expect((await t.request('/v1/decisions', { ...DECIDE, auth: `bearer ${TOKEN}` })).status).toBe(200);
  });

  it('an empty token file refuses everyone', async () => {
    const t = await testApp({ live: loadTestConfig(undefined, tokenSet()) });
    expect((await t.request('/v1/decisions', DECIDE)).status).toBe(401);
    expect((await t.request('/v1/decisions', { ...DECIDE, auth: 'Bearer ' })).status).toBe(401);
  });

  it('the tokens in force are the configuration in force: a reload that drops one refuses it', async () => {
    const t = await testApp();
    expect((await t.request('/v1/decisions', DECIDE)).status).toBe(200);
    t.setLive(loadTestConfig(undefined, tokenSet('the-new-token-0123456789')));
    expect((await t.request('/v1/decisions', DECIDE)).status).toBe(401);
    expect(
      (await t.request('/v1/decisions', { ...DECIDE, auth: 'Bearer the-new-token-0123456789' })).status,
    ).toBe(200);
  });

  it('--insecure-no-auth (no token set) serves /v1 to anyone', async () => {
    const t = await testApp({ live: loadTestConfig(undefined, null) });
    expect((await t.request('/v1/decisions', { ...DECIDE, auth: null })).status).toBe(200);
    expect((await t.request('/v1/decisions', { ...DECIDE, auth: 'Bearer whatever' })).status).toBe(200);
  });

  it('accepts RFC 6750 access_token in the query on forward-auth only', async () => {
    const t = await testApp();
    const q = `endpoint=tcp://ledger.payments:5432&access_token=${TOKEN}`;
    const fa = await t.request(`/v1/forward-auth?${q}`, { auth: null }, { ip: '10.1.0.1' });
    expect(fa.status).toBe(200);
    // A client's own Authorization header (passed on by the proxy) does not spoil a good query token.
    const withClientAuth = await t.request(
      `/v1/forward-auth?${q}`,
      { auth: 'Bearer app-token' },
      { ip: '10.1.0.1' },
    );
    expect(withClientAuth.status).toBe(200);
    const wrong = await t.request(`/v1/forward-auth?endpoint=x&access_token=${TOKEN}x`, { auth: null });
    expect(wrong.status).toBe(401);
    // A wrong token is a wrong token wherever it came: RFC 6750's invalid_token, as for the header.
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="podgate", error="invalid_token"');
    expect((await error(wrong)).message).toBe('the bearer token is not valid');
    const elsewhere = await t.request(`/v1/decisions?access_token=${TOKEN}`, { ...DECIDE, auth: null });
    expect(elsewhere.status).toBe(401);
  });

  it('needs no token for /healthz, /readyz, /metrics and the OpenAPI document', async () => {
    const t = await testApp();
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/openapi.yaml']) {
      expect((await t.request(path, { auth: null })).status, path).toBe(200);
    }
  });

  it('answers unknown routes with 404 route_not_found (behind the token under /v1)', async () => {
    const t = await testApp();
    const outside = await t.request('/nope', { auth: null });
    expect(outside.status).toBe(404);
    expect((await error(outside)).code).toBe('route_not_found');
    const inside = await t.request('/v1/nope');
    expect(inside.status).toBe(404);
    expect((await error(inside)).code).toBe('route_not_found');
  });

  it('/readyz follows the readiness it is given', async () => {
    const t = await testApp({ ready: { ready: false, detail: { store: 'unreachable: refused' } } });
    const res = await t.request('/readyz', { auth: null });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', store: 'unreachable: refused' });
  });
});
