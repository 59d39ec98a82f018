// The /v1 checks folded into the deciding routes (guard.ts) do what the /v1 middleware does for
// the others: one request-duration sample per answered request (refusals by token aside), the
// body limit whether the length is given or the body streams, and errors answered by the app's
// error handler.
import { describe, expect, it } from 'vitest';
import { loadTestConfig, testApp } from '../../test/fixtures.js';

const LEDGER = 'tcp://ledger.payments:5432';
const count = (text: string, route: string) =>
  Number(
    new RegExp(`^podgate_decision_request_duration_seconds_count\\{route="${route}"\\} (\\d+)$`, 'm').exec(
      text,
    )?.[1] ?? 0,
  );

function chunked(text: string, pieces: number) {
  const size = Math.ceil(text.length / pieces);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < text.length; i += size)
        controller.enqueue(new TextEncoder().encode(text.slice(i, i + size)));
      controller.close();
    },
  });
}

describe('the /v1 checks on the deciding routes', () => {
  it('time every answered request by route, and not the ones refused for their token', async () => {
    const t = await testApp({ maxBodyBytes: 1024 });
    await t.decide({ endpoint: LEDGER, client_ip: '10.1.0.1' }); // 200
    await t.decide({ endpoint: LEDGER }); // 400, thrown by the handler
    await t.request('/v1/decisions', { method: 'POST', body: 'x'.repeat(2000) }); // 413
    await t.request('/v1/decisions', { method: 'POST', body: '{}', auth: null }); // 401
    await t.request('/v1/forward-auth', { headers: { 'x-podgate-endpoint': LEDGER } }); // 200
    await t.request('/v1/forward-auth/deep/path', {
      headers: { 'x-podgate-endpoint': LEDGER },
      auth: 'Bearer nope',
    }); // 401
    await t.request('/v1/identities/10.1.0.1'); // through the middleware
    const text = await t.metricsText();
    expect(count(text, 'decisions')).toBe(3);
    expect(count(text, 'forward_auth')).toBe(1);
    expect(count(text, 'identities')).toBe(1);
    expect(text).toMatch(/^podgate_decision_errors_total\{code="unauthorized"\} 2$/m);
  });

  it('read a chunked body within the limit as usual, and refuse one past it', async () => {
    const t = await testApp({ maxBodyBytes: 1024 });
    const body = JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1' });
    const within = await t.request('/v1/decisions', {
      method: 'POST',
      body: chunked(body, 3),
      duplex: 'half',
    } as RequestInit);
    expect(within.status).toBe(200);
    expect(((await within.json()) as { allowed: boolean }).allowed).toBe(true);
    const past = await t.request('/v1/decisions', {
      method: 'POST',
      body: chunked(JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1', pad: 'x'.repeat(2000) }), 4),
      duplex: 'half',
    } as RequestInit);
    expect(past.status).toBe(413);
    const bad = await t.request('/v1/decisions', {
      method: 'POST',
      body: chunked('{"endpoint":', 2),
      duplex: 'half',
    } as RequestInit);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect(count(await t.metricsText(), 'decisions')).toBe(3);
  });

  it('read the configuration in force per request: after a reload to no tokens, none is asked for', async () => {
    const t = await testApp();
    const ask = () =>
      t.request('/v1/forward-auth', { headers: { 'x-podgate-endpoint': LEDGER }, auth: null });
    expect((await ask()).status).toBe(401);
    t.setLive(loadTestConfig(undefined, null));
    // The peer (127.0.0.1) is no pod: the policy refuses it, but the token check let it through.
    expect((await ask()).status).toBe(403);
  });
});
