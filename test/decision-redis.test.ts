// `podgate decision` end to end: the CLI, a real Redis written as the watcher writes it, real
// sockets from chosen loopback addresses. Every route, forged forwarding headers from an
// untrusted peer and through a trusted one, raw-byte abuse, auth, dry-run, metrics.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  CLUSTER,
  type DecisionOnRedis,
  decideOver,
  EXAMPLE_CONFIG,
  httpRequest,
  type RunningDecision,
  startDecisionOnRedis,
  TOKEN,
  tempFiles,
  UNHURRIED_LOOKUPS,
} from './decision-support.js';

const SHADOW = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: shadow
  namespace: payments
  annotations: {podgate.io/dry-run: "true"}
spec:
  url: tcp://shadow.payments:5432
  trafficPolicy:
    policy:
      on_tcp_connect:
        - expressions: ['conn.k8s.pod.metadata.namespace != "payments"']
          actions: [{type: deny}]
        - actions: [{type: forward-internal, config: {url: tcp://ledger.payments.internal:5432}}]
`;
const LEDGER = 'tcp://ledger.payments:5432';

let store: DecisionOnRedis;
let decision: RunningDecision;
const files = tempFiles('decision-redis-');

beforeAll(async () => {
  store = await startDecisionOnRedis({
    keyPrefix: 'e2e:',
    files,
    tokenFile: `# e2e\n${TOKEN}\n`,
    configs: [EXAMPLE_CONFIG, files.write('shadow.yaml', SHADOW)],
    flags: ['--trusted-proxies', '127.0.0.1', ...UNHURRIED_LOOKUPS],
  });
  decision = store.decision;
});
afterAll(async () => {
  for (const code of (await store?.stop()) ?? []) expect(code).toBe(0);
});

const forwardAuth = (from: string, headers: Record<string, string> = {}, endpoint = LEDGER) =>
  httpRequest({
    port: decision.port,
    path: `/v1/forward-auth/orig/path?endpoint=${encodeURIComponent(endpoint)}`,
    headers: { ...bearer(), ...headers },
    localAddress: from,
  });
const lastDecision = () => decision.decisions().at(-1);

describe('the JSON API against Redis', () => {
  it('POST /v1/decisions: allow, deny by namespace, deny an unknown client, fail-open, evaluation error', async () => {
    expect(await decideOver(decision.port, LEDGER, '127.0.0.2')).toMatchObject({
      allowed: true,
      action: 'forward-internal',
      identity: { id: 'uid-ledger-client', cluster: CLUSTER },
    });
    expect(await decideOver(decision.port, LEDGER, '127.0.0.3')).toMatchObject({
      allowed: false,
      rule: { number: 2 },
    });
    expect(await decideOver(decision.port, LEDGER, '127.0.0.9')).toMatchObject({
      allowed: false,
      rule: { number: 1 },
      lookup: { found: false, reason: 'not_found' },
    });
    expect(await decideOver(decision.port, 'tcp://status.payments:8080', '127.0.0.9')).toMatchObject({
      allowed: true,
      action: 'upstream',
    });
    expect(await decideOver(decision.port, 'http://reports.payments', '127.0.0.4')).toMatchObject({
      allowed: false,
      action: 'error',
      error: { code: 'policy_eval_error' },
    });
  });

  it('GET /v1/identities/{ip}: the identity in Redis, any spelling; the reason when none', async () => {
    for (const ip of ['127.0.0.2', '::ffff:127.0.0.2']) {
      const res = await httpRequest({ port: decision.port, path: `/v1/identities/${ip}`, headers: bearer() });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({
        ip: '127.0.0.2',
        clusters: [CLUSTER],
        identity: { id: 'uid-ledger-client', metadata: { name: 'ledger-client', namespace: 'payments' } },
        lookup: { found: true },
      });
    }
    const none = await httpRequest({
      port: decision.port,
      path: '/v1/identities/127.0.0.99',
      headers: bearer(),
    });
    expect(none.json().lookup).toMatchObject({ found: false, reason: 'not_found' });
  });

  it('POST /v1/validate: every seed example loads; a broken file is 422 with its diagnostics', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const seed = new URL('../examples/seed/', import.meta.url).pathname;
    for (const file of readdirSync(seed)) {
      const res = await httpRequest({
        port: decision.port,
        path: '/v1/validate',
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'application/yaml' },
        body: readFileSync(`${seed}${file}`, 'utf8'),
      });
      expect(res.status, file).toBe(200);
    }
    const broken = await httpRequest({
      port: decision.port,
      path: '/v1/validate',
      method: 'POST',
      headers: bearer(),
      body: 'on_tcp_connect:\n  - actions: [{type: teleport}]\n',
    });
    expect(broken.status).toBe(422);
    expect(broken.json().diagnostics[0]).toMatchObject({ line: 2, severity: 'error' });
  });

  it('refuses malformed, wrongly typed and oversized bodies, and keeps serving', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      httpRequest({
        port: decision.port,
        path: '/v1/decisions',
        method: 'POST',
        headers: { ...bearer(), ...headers },
        body,
      });
    expect((await post('{"endpoint":')).json().error.code).toBe('invalid_request');
    expect((await post(JSON.stringify({ endpoint: LEDGER, client_ip: 7 }))).json().error.code).toBe(
      'invalid_request',
    );
    expect((await post(JSON.stringify({ endpoint: LEDGER, client_ip: '1.2.3' }))).json().error.code).toBe(
      'invalid_ip',
    );
    const big = await post(
      JSON.stringify({ endpoint: LEDGER, client_ip: '127.0.0.2', pad: 'x'.repeat(1_100_000) }),
    );
    expect(big.status).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
    expect((await decideOver(decision.port, LEDGER, '127.0.0.2')).allowed).toBe(true);
  });

  it('refuses requests without a valid token: 401', async () => {
    const none = await httpRequest({ port: decision.port, path: '/v1/identities/127.0.0.2' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="podgate"');
    const wrong = await httpRequest({
      port: decision.port,
      path: '/v1/identities/127.0.0.2',
      headers: bearer('nope'),
    });
    expect(wrong.status).toBe(401);
    expect((await httpRequest({ port: decision.port, path: '/healthz' })).status).toBe(200);
  });
});

describe('forward-auth on real sockets', () => {
  it('decides for the TCP peer when it is not a trusted proxy: its forged headers are ignored', async () => {
    const pod = await forwardAuth('127.0.0.2');
    expect(pod.status).toBe(200);
    // An empty body of a said length: not chunked.
    expect(pod.headers['content-length']).toBe('0');
    expect(pod.headers['transfer-encoding']).toBeUndefined();
    expect(pod.headers).toMatchObject({
      'x-podgate-pod-name': 'ledger-client',
      'x-podgate-pod-namespace': 'payments',
      'x-podgate-pod-id': 'uid-ledger-client',
      'x-podgate-cluster': CLUSTER,
    });
    const forged = await forwardAuth('127.0.0.3', {
      'x-forwarded-for': '127.0.0.2',
      'x-real-ip': '127.0.0.2',
    });
    expect(forged.status).toBe(403);
    expect(forged.json()).toEqual({
      error: { code: 'access_denied', message: "denied by the endpoint's policy" },
    });
    expect(lastDecision()).toMatchObject({
      client: { ip: '127.0.0.3', from: 'peer' },
      peer: { ip: '127.0.0.3' },
    });
  });

  it('through a trusted proxy: the rightmost untrusted hop, never the leftmost', async () => {
    const cases: Array<[string, number, string]> = [
      ['127.0.0.2', 200, '127.0.0.2'],
      ['127.0.0.2, 127.0.0.3', 403, '127.0.0.3'], // a client at .3 forging .2 on the left
      ['127.0.0.3, 127.0.0.2', 200, '127.0.0.2'],
      ['127.0.0.3, 127.0.0.2, 127.0.0.1, 127.0.0.1', 200, '127.0.0.2'], // trusted hops skipped
    ];
    for (const [xff, status, client] of cases) {
      const res = await forwardAuth('127.0.0.1', { 'x-forwarded-for': xff });
      expect(res.status, xff).toBe(status);
      expect(lastDecision(), xff).toMatchObject({ client: { ip: client, from: 'x-forwarded-for' } });
    }
    const real = await forwardAuth('127.0.0.1', { 'x-real-ip': '127.0.0.2' });
    expect(real.status).toBe(200);
    expect(lastDecision()).toMatchObject({ client: { from: 'x-real-ip' } });
    expect((await forwardAuth('127.0.0.1', { 'x-forwarded-for': '127.0.0.2, junk' })).status).toBe(400);
  });

  it('a dry-run endpoint allows and reports the would-be verdict', async () => {
    const res = await forwardAuth('127.0.0.3', {}, 'tcp://shadow.payments:5432');
    expect(res.status).toBe(200);
    expect(res.headers['x-podgate-dry-run-verdict']).toBe('deny');
    expect(res.headers['x-podgate-pod-namespace']).toBe('web');
    const metrics = (await httpRequest({ port: decision.port, path: '/metrics' })).text;
    expect(metrics).toMatch(
      /^podgate_decision_dry_run_refusals_total\{endpoint="tcp:\/\/shadow\.payments:5432",verdict="deny"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^podgate_decision_lookup_duration_seconds_count\{result="found"\} [1-9]/m);
  });
});

/** Sends raw bytes, returns what came back before the server closed (or 2 s passed). */
function raw(port: number, bytes: string, from = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    let out = '';
    const timer = setTimeout(() => socket.destroy(), 2_000);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe('raw bytes', () => {
  const head = (lines: string[]) =>
    `GET /v1/forward-auth?endpoint=${LEDGER} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n${lines.join('\r\n')}\r\n\r\n`;

  it('two X-Forwarded-For fields are one chain, in order', async () => {
    const answer = await raw(
      decision.port,
      head(['X-Forwarded-For: 127.0.0.2', 'X-Forwarded-For: 127.0.0.3']),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    const other = await raw(
      decision.port,
      head(['X-Forwarded-For: 127.0.0.3', 'X-Forwarded-For: 127.0.0.2']),
    );
    expect(other).toMatch(/^HTTP\/1\.1 200 /);
  });

  it.each([
    ['a folded header line', ['X-Forwarded-For: 127.0.0.3', ' 127.0.0.2']],
    ['a bare CR in a value', ['X-Forwarded-For: 127.0.0.3\r127.0.0.2']],
    ['a NUL in a value', ['X-Real-IP: 127.0.0.2\u0000']],
    ['Content-Length and Transfer-Encoding together', ['Content-Length: 4', 'Transfer-Encoding: chunked']],
  ])('%s is refused before any decision, and the service keeps serving', async (_what, lines) => {
    const before = decision.decisions().length;
    const answer = await raw(decision.port, head(lines));
    expect(answer).not.toMatch(/^HTTP\/1\.1 200 /);
    expect(decision.decisions().length).toBe(before);
    expect((await forwardAuth('127.0.0.2')).status).toBe(200);
  });
});

describe('a dual-stack listener', () => {
  it('reads an IPv4 client as IPv4, not as ::ffff:…, and trusts a proxy in either spelling', async () => {
    const ds = await store.start({
      listen: '[::]:0',
      flags: ['--trusted-proxies', '127.0.0.1', '--log-level', 'info', ...UNHURRIED_LOOKUPS],
    });
    try {
      const direct = await httpRequest({
        port: ds.port,
        path: `/v1/forward-auth?endpoint=${LEDGER}`,
        headers: bearer(),
        localAddress: '127.0.0.2',
      });
      expect(direct.status).toBe(200);
      const line = ds.decisions()[0];
      expect(line).toMatchObject({ client: { ip: '127.0.0.2', from: 'peer' }, peer: { ip: '127.0.0.2' } });
      const viaProxy = await httpRequest({
        port: ds.port,
        path: `/v1/forward-auth?endpoint=${LEDGER}`,
        headers: { ...bearer(), 'x-forwarded-for': '::ffff:127.0.0.2' },
        localAddress: '127.0.0.1',
      });
      expect(viaProxy.status).toBe(200);
    } finally {
      expect(await ds.stop()).toBe(0);
    }
  });
});
