// POST /v1/decisions in-process: the decision `podgate eval` prints, for each kind of endpoint,
// and every way a request is refused.
import { podVarsFromLookup } from '@podgate/identity';
import { decisionJson } from '@podgate/policy';
import { describe, expect, it } from 'vitest';
import { CLUSTER, loadTestConfig, podStore, testApp } from '../../test/fixtures.js';

const LEDGER = 'tcp://ledger.payments:5432';

describe('POST /v1/decisions', () => {
  it('answers the decision podgate eval prints: allowed, with the identity it saw', async () => {
    const t = await testApp();
    const { status, body, headers } = await t.decide({ endpoint: LEDGER, client_ip: '10.1.0.1' });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(headers.get('cache-control')).toBe('no-store');
    // The same object eval builds from the same evaluation.
    const endpoint = loadTestConfig().policy.findEndpoint(LEDGER)!;
    const lookup = await t.store.lookup('10.1.0.1', [CLUSTER]);
    const pod = podVarsFromLookup(lookup);
    const decision = endpoint.evaluateTcpConnect({
      conn: { clientIp: '10.1.0.1', clientPort: 0, serverIp: '', serverPort: 5432, startedAt: new Date() },
      pod,
    });
    expect(body).toEqual(
      JSON.parse(
        JSON.stringify(decisionJson({ endpoint: LEDGER, clientIp: '10.1.0.1', decision, pod, lookup })),
      ),
    );
    expect(body).toMatchObject({
      allowed: true,
      action: 'forward-internal',
      target: 'tcp://ledger.payments.internal:5432',
      rule: { number: 3 },
      identity: { id: 'uid-worker', cluster: CLUSTER, metadata: { name: 'worker-a', namespace: 'payments' } },
      lookup: { found: true },
    });
    expect(body.dry_run).toBeUndefined();
  });

  it('denies a pod of another namespace, and an unknown client (fail-closed), saying which rule', async () => {
    const t = await testApp();
    expect((await t.decide({ endpoint: LEDGER, client_ip: '10.1.0.2' })).body).toMatchObject({
      allowed: false,
      action: 'deny',
      rule: { number: 2 },
      identity: { metadata: { namespace: 'web' } },
    });
    expect((await t.decide({ endpoint: LEDGER, client_ip: '10.9.9.9' })).body).toMatchObject({
      allowed: false,
      rule: { number: 1 },
      identity: { id: '', metadata: { error_code: 'ERR_NGROK_28001' } },
      lookup: { found: false, reason: 'not_found' },
    });
  });

  it('lets an unknown client through a fail-open endpoint, to its upstream', async () => {
    const t = await testApp();
    const { body } = await t.decide({ endpoint: 'tcp://status.payments:8080', client_ip: '10.9.9.9' });
    expect(body).toMatchObject({
      allowed: true,
      action: 'upstream',
      target: 'tcp://127.0.0.1:18080',
      rule: null,
    });
    const other = await t.decide({ endpoint: 'tcp://status.payments:8080', client_ip: '10.1.0.2' });
    expect(other.body).toMatchObject({ allowed: false, action: 'deny' });
  });

  it('fails closed on an evaluation error, naming the expression; runs log actions', async () => {
    const t = await testApp();
    const batch = await t.decide({ endpoint: 'http://reports.payments', client_ip: '10.1.0.3' });
    expect(batch.body).toMatchObject({
      allowed: false,
      action: 'error',
      rule: { number: 2 },
      expression: { number: 1, source: expect.stringContaining('k8s.ngrok.com/environment') },
      error: { code: 'policy_eval_error' },
    });
    const worker = await t.decide({ endpoint: 'http://reports.payments:80', client_ip: '10.1.0.1' });
    expect(worker.body).toMatchObject({ allowed: true, logs: [{ pod: 'payments/worker-a' }] });
  });

  it('takes every spelling of an address: IPv4-mapped IPv6, upper-case IPv6', async () => {
    const t = await testApp();
    for (const ip of ['::ffff:10.1.0.1', '::FFFF:10.1.0.1', '2001:DB8::1', '2001:db8:0:0:0:0:0:1']) {
      const { body } = await t.decide({ endpoint: LEDGER, client_ip: ip });
      expect(body, ip).toMatchObject({ allowed: true, identity: { id: 'uid-worker' } });
    }
    expect((await t.decide({ endpoint: LEDGER, client_ip: '::ffff:10.1.0.1' })).body.client_ip).toBe(
      '10.1.0.1',
    );
  });

  it('passes client_port, server_ip and server_port to the policy', async () => {
    const t = await testApp({
      live: loadTestConfig(`apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: ports, namespace: ns}
spec:
  url: tcp://ports.ns:7000
  trafficPolicy:
    policy:
      on_tcp_connect:
        - expressions: ['conn.client_port == 1234 && conn.server_ip == "10.0.0.1" && conn.server_port == 7000']
          actions: [{type: deny}]
        - actions: [{type: close-connection}]
`),
    });
    const ask = (extra: object) =>
      t.decide({ endpoint: 'tcp://ports.ns:7000', client_ip: '10.1.0.1', ...extra });
    expect((await ask({ client_port: 1234, server_ip: '10.0.0.1' })).body).toMatchObject({ action: 'deny' });
    expect((await ask({ client_port: 1234, server_ip: '10.0.0.1', server_port: 7001 })).body).toMatchObject({
      action: 'close-connection',
    });
    expect((await ask({})).body).toMatchObject({ action: 'close-connection' });
  });

  it('on a dry-run endpoint allows, and says what the policy would have done', async () => {
    const t = await testApp();
    const denied = await t.decide({ endpoint: 'tcp://shadow.payments:5432', client_ip: '10.1.0.2' });
    expect(denied.status).toBe(200);
    expect(denied.headers.get('x-podgate-dry-run-verdict')).toBe('deny');
    expect(denied.body).toMatchObject({
      allowed: true,
      action: 'deny',
      rule: { number: 2 },
      dry_run: { verdict: 'deny' },
    });
    const allowed = await t.decide({ endpoint: 'tcp://shadow.payments:5432', client_ip: '10.1.0.1' });
    expect(allowed.headers.get('x-podgate-dry-run-verdict')).toBe('allow');
    expect(allowed.body).toMatchObject({
      allowed: true,
      action: 'forward-internal',
      dry_run: { verdict: 'allow' },
    });
    const metrics = await t.metricsText();
    expect(metrics).toMatch(
      /^podgate_decision_dry_run_refusals_total\{endpoint="tcp:\/\/shadow\.payments:5432",verdict="deny"\} 1$/m,
    );
    expect(metrics).toMatch(/podgate_decision_decisions_total\{[^}]*outcome="dry_run"\} 1$/m);
    const line = t
      .lines()
      .find((l) => l.msg === 'decision' && (l.dry_run as { verdict?: string })?.verdict === 'deny');
    expect(line).toMatchObject({ verdict: 'allow', endpoint: 'tcp://shadow.payments:5432' });
  });

  it('logs one JSON line per decision: client and where it came from, verdict, reason, lookup time', async () => {
    const t = await testApp();
    await t.request('/v1/decisions', {
      method: 'POST',
      body: JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.2', client_port: 5000 }),
      headers: { 'x-request-id': 'req-42' },
    });
    const lines = t.lines().filter((l) => l.msg === 'decision');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      route: 'decisions',
      endpoint: LEDGER,
      client: { ip: '10.1.0.2', port: 5000, from: 'body' },
      peer: { ip: '127.0.0.1' },
      request_id: 'req-42',
      verdict: 'deny',
      decision: { action: 'deny', rule: { number: 2 }, identity: { metadata: { name: 'frontend' } } },
      lookup_ms: expect.any(Number),
    });
    expect(await t.metricsText()).toMatch(
      /^podgate_decision_decisions_total\{endpoint="tcp:\/\/ledger\.payments:5432",route="decisions",outcome="denied"\} 1$/m,
    );
  });
});

describe('POST /v1/decisions refuses', () => {
  const post = async (
    body: string | undefined,
    headers: Record<string, string> = {},
    maxBodyBytes?: number,
  ) => {
    const t = await testApp(maxBodyBytes === undefined ? {} : { maxBodyBytes });
    const res = await t.request('/v1/decisions', {
      method: 'POST',
      ...(body !== undefined ? { body } : {}),
      headers,
    });
    return {
      status: res.status,
      body: (await res.json()) as { error: { code: string; message: string } },
      t,
    };
  };
  const ok = JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1' });

  it.each([
    ['an empty body', '', /body is empty/],
    ['a body that is not JSON', '{"endpoint": ', /not JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['a JSON string', '"tcp://ledger.payments:5432"', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['a missing client_ip', JSON.stringify({ endpoint: LEDGER }), /client_ip: expected an IP address/],
    ['a missing endpoint', JSON.stringify({ client_ip: '10.1.0.1' }), /endpoint: expected the endpoint URL/],
    ['an endpoint that is a number', JSON.stringify({ endpoint: 5, client_ip: '10.1.0.1' }), /^endpoint:/],
    [
      'a port as a string',
      JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1', client_port: '80' }),
      /client_port/,
    ],
    [
      'a port out of range',
      JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1', server_port: 70000 }),
      /server_port/,
    ],
    [
      'a fractional port',
      JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1', client_port: 1.5 }),
      /client_port/,
    ],
    [
      'an unknown field',
      JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1', clientIp: 'x' }),
      /unknown field: clientIp/,
    ],
    [
      'a __proto__ field',
      `{"endpoint": "${LEDGER}", "client_ip": "10.1.0.1", "__proto__": {"x": 1}}`,
      /unknown field: __proto__/,
    ],
    [
      'an over-long endpoint',
      JSON.stringify({ endpoint: `tcp://${'a'.repeat(3000)}`, client_ip: '1.2.3.4' }),
      /2048/,
    ],
  ])('%s: 400 invalid_request', async (_what, body, message) => {
    const { status, body: answer } = await post(body);
    expect(status).toBe(400);
    expect(answer.error.code).toBe('invalid_request');
    expect(answer.error.message).toMatch(message);
    expect(JSON.stringify(answer)).not.toMatch(/at .*\.ts:\d+/);
  });

  it.each([
    ['client_ip', { client_ip: '10.1.0.256' }],
    ['client_ip', { client_ip: 'fe80::1%eth0' }],
    ['client_ip', { client_ip: '10.0.0.0/8' }],
    ['client_ip', { client_ip: '010.1.0.1' }],
    ['server_ip', { client_ip: '10.1.0.1', server_ip: 'localhost' }],
  ])('a bad %s: 400 invalid_ip naming the field', async (field, fields) => {
    const { status, body } = await post(JSON.stringify({ endpoint: LEDGER, ...fields }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: 'invalid_ip',
      message: expect.stringMatching(new RegExp(`^${field}:`)),
    });
  });

  it.each(['tcp://nowhere.payments:5432', 'tcp://ledger.payments:5433', 'not a url', 'ftp://x'])(
    'an endpoint the configuration does not have (%s): 422 unknown_endpoint',
    async (endpoint) => {
      const { status, body } = await post(JSON.stringify({ endpoint, client_ip: '10.1.0.1' }));
      expect(status).toBe(422);
      expect(body.error.code).toBe('unknown_endpoint');
    },
  );

  it('a body past the limit: 413 payload_too_large, by Content-Length or as it streams', async () => {
    const big = JSON.stringify({ endpoint: LEDGER, client_ip: '10.1.0.1', pad: 'x'.repeat(2000) });
    const sized = await post(big, {}, 1024);
    expect(sized.status).toBe(413);
    expect(sized.body.error.code).toBe('payload_too_large');
    const t = await testApp({ maxBodyBytes: 1024 });
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(512)));
        controller.close();
      },
    });
    const res = await t.request('/v1/decisions', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await t.metricsText()).toMatch(/^podgate_decision_errors_total\{code="payload_too_large"\} 1$/m);
    // Within the limit it is read as usual.
    expect((await post(ok, {}, 1024)).status).toBe(200);
  });

  it('another method: 405 with Allow', async () => {
    const t = await testApp();
    const res = await t.request('/v1/decisions');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('an unexpected failure is 500 internal_error: the stack goes to the log, never to the caller', async () => {
    // A reader that breaks its contract (lookups never throw), to reach the last resort.
    const broken = await podStore();
    broken.lookup = () => Promise.reject(new Error('reader exploded at /srv/secret/path.ts:12'));
    const t = await testApp({ store: broken });
    const res = await t.request('/v1/decisions', { method: 'POST', body: ok });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal_error', message: 'internal error; the service log has the details' },
    });
    expect(text).not.toMatch(/exploded|secret|\.ts/);
    expect(t.lines().find((l) => l.level === 50)).toMatchObject({
      msg: 'internal error while answering a request',
      err: { message: expect.stringContaining('exploded'), stack: expect.stringContaining('Error') },
      path: '/v1/decisions',
    });
    // The service goes on answering.
    expect((await t.request('/healthz')).status).toBe(200);
  });

  it('counts every error answer by code, and logs no decision for it', async () => {
    const { t } = await post('nope');
    expect(await t.metricsText()).toMatch(/^podgate_decision_errors_total\{code="invalid_request"\} 1$/m);
    expect(t.lines().filter((l) => l.msg === 'decision')).toEqual([]);
  });
});
