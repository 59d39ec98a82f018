// /v1/forward-auth over a real socket, with request targets and header fields written byte for
// byte (what a proxy in front may pass on of its client's): what the in-process app cannot see,
// because a Request built in-process has its URL resolved already.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceOnSocket, TOKEN } from '../../test/fixtures.js';
import type { DecisionService } from '../service.js';

const LEDGER = 'tcp://ledger.payments:5432';
let service: DecisionService;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ service, stop } = await startServiceOnSocket({ trustedProxies: '127.0.0.1' }));
});
afterAll(() => stop());

interface Answer {
  status: number;
  headers: string;
  body: string;
}

/** One request, its head written as given (`lines` without the request line's CRLF), from 127.0.0.1. */
function send(requestLine: string, lines: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: service.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const end = text.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]),
        headers: text.slice(0, end),
        body: text.slice(end + 4),
      });
    });
    socket.write(`${[requestLine, 'Host: podgate', ...lines, 'Connection: close'].join('\r\n')}\r\n\r\n`);
  });
}

/** As nginx or Envoy would ask for a client at 10.1.0.2 (a pod the ledger's policy denies). */
const forFrontend = [
  `Authorization: Bearer ${TOKEN}`,
  `X-Podgate-Endpoint: ${LEDGER}`,
  'X-Forwarded-For: 10.1.0.2',
];

describe('/v1/forward-auth: the path a proxy appends', () => {
  it('denies the client at any path below it', async () => {
    const denied = await send('GET /v1/forward-auth/api/items/7?page=2 HTTP/1.1', forFrontend);
    expect(denied.status).toBe(403);
  });

  // Envoy's ext_authz appends the client's path to /v1/forward-auth (and so would a proxy that
  // passes $request_uri). Resolved as a URL, `/v1/forward-auth/../../healthz` is /healthz: a 200
  // that every proxy takes for an allow, for a client the policy denies.
  it.each([
    '/v1/forward-auth/../../healthz',
    '/v1/forward-auth/%2e%2e/%2E%2E/metrics',
    '/v1/forward-auth/.%2e/%2e./openapi.json',
    '/v1/forward-auth/x/../../identities/10.1.0.2',
    '/v1/forward-auth/../identities/10.1.0.2?x=1',
    '/v1/forward-auth/./x',
    '/v1/forward-auth/a/%2E/..',
  ])('refuses a dot segment in %s (400), never answering another route', async (path) => {
    const answer = await send(`GET ${path} HTTP/1.1`, forFrontend);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('still takes dots that are not a whole segment, and dots in the query', async () => {
    for (const path of [
      '/v1/forward-auth/file.txt/.well-known/a..b/...',
      `/v1/forward-auth/x?next=/../../healthz&endpoint=${encodeURIComponent(LEDGER)}`,
    ]) {
      expect((await send(`GET ${path} HTTP/1.1`, forFrontend)).status, path).toBe(403);
    }
  });
});
