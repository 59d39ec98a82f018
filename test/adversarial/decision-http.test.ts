// Adversarial HTTP against `podgate decision` on real sockets (through the CLI, on a real
// Redis), beyond what decision-redis.test.ts already covers (malformed/oversized bodies, no
// or a wrong token, forged X-Forwarded-For from an untrusted peer): slowloris heads and
// bodies, JSON built to hurt parsers (deep nesting, huge numbers, duplicate keys,
// `__proto__`), oversized and repeated headers, odd Authorization forms, odd paths. Each
// gets a clear refusal; the process keeps serving (a good decision follows every attack).
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { type RedisServer, startRedis } from '@podgate/test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  decideOver,
  EXAMPLE_CONFIG,
  httpRequest,
  type RunningDecision,
  runDecision,
  seedRedis,
  TOKEN,
  tempFiles,
} from '../decision-support.js';

const LEDGER = 'tcp://ledger.payments:5432';
let redis: RedisServer;
let decision: RunningDecision;
let closeWriter: () => Promise<void>;
const files = tempFiles('adversarial-decision-');

beforeAll(async () => {
  redis = await startRedis();
  const writer = await seedRedis(redis.url, 'adv:');
  closeWriter = () => writer.close();
  const tokens = files.write('tokens', `${TOKEN}\n`);
  decision = await runDecision([
    ...['--config', EXAMPLE_CONFIG, '--token-file', tokens],
    ...['--redis', redis.url, '--key-prefix', 'adv:', '--cluster', 'e2e'],
    ...['--listen', '127.0.0.1:0', '--trusted-proxies', '127.0.0.1'],
  ]);
});
afterAll(async () => {
  expect(await decision?.stop()).toBe(0);
  await closeWriter?.();
  await redis?.stop();
});

/** The service still answers a good request, correctly, and quickly. */
async function stillServing(): Promise<void> {
  const started = performance.now();
  expect((await decideOver(decision.port, LEDGER, '127.0.0.2')).allowed).toBe(true);
  expect((await decideOver(decision.port, LEDGER, '127.0.0.3')).allowed).toBe(false);
  expect(performance.now() - started).toBeLessThan(5_000);
}

const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
  httpRequest({
    port: decision.port,
    path: '/v1/decisions',
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/json', ...headers },
    body: body as string,
  });

function rawSocket(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: decision.port }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('slowloris', () => {
  it('200 half-sent request heads and 100 half-sent bodies: a good request is still served at once', async () => {
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const s = await rawSocket();
        s.on('error', () => {});
        s.write(`POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nX-Slow-${i}: `);
        sockets.push(s);
      }
      for (let i = 0; i < 100; i++) {
        const s = await rawSocket();
        s.on('error', () => {});
        s.write(
          `POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"endpoint":`,
        );
        sockets.push(s);
      }
      await stillServing();
      // A partial PROXY-style preamble is not HTTP: refused (400) or dropped, never served.
      const junk = await rawSocket();
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        junk.on('data', (c) => {
          text += c.toString('latin1');
        });
        junk.on('error', () => resolve(text));
        junk.on('close', () => resolve(text));
        junk.end('PROXY TCP4 127.0.0.2 127.0.0.1 1 2\r\nGET /v1/identities/127.0.0.2 HTTP/1.1\r\n\r\n');
      });
      expect(answer.startsWith('HTTP/1.1 200')).toBe(false);
      await stillServing();
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe('JSON built to hurt parsers', () => {
  it.each([
    ['arrays nested 400,000 deep', `${'['.repeat(400_000)}${']'.repeat(400_000)}`],
    ['objects nested 100,000 deep', `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`],
    [
      'the endpoint nested deep',
      `{"endpoint":${'['.repeat(200_000)}${']'.repeat(200_000)},"client_ip":"127.0.0.2"}`,
    ],
    [
      'a number past double range as the port',
      `{"endpoint":"${LEDGER}","client_ip":"127.0.0.2","client_port":1e400}`,
    ],
    ['a 400-digit port', `{"endpoint":"${LEDGER}","client_ip":"127.0.0.2","client_port":${'9'.repeat(400)}}`],
    [
      'a negative zero port past the range',
      `{"endpoint":"${LEDGER}","client_ip":"127.0.0.2","client_port":-0.5}`,
    ],
    ['the client IP only under __proto__', `{"endpoint":"${LEDGER}","__proto__":{"client_ip":"127.0.0.2"}}`],
    [
      'constructor.prototype',
      `{"endpoint":"${LEDGER}","client_ip":"127.0.0.3","constructor":{"prototype":{"allowed":true}}}`,
    ],
    ['a NUL in the endpoint', `{"endpoint":"${LEDGER}\\u0000","client_ip":"127.0.0.2"}`],
    ['a lone surrogate in the IP', `{"endpoint":"${LEDGER}","client_ip":"127.0.0.2\\ud800"}`],
    ['not an object', '"127.0.0.2"'],
    ['an empty body', ''],
  ])('%s: refused with a 4xx and a code, and the service keeps serving', async (_name, body) => {
    const r = await post(body);
    expect(r.status, r.text).toBeGreaterThanOrEqual(400);
    expect(r.status, r.text).toBeLessThan(500);
    expect(typeof r.json().error.code).toBe('string');
    expect(({} as Record<string, unknown>).allowed).toBeUndefined();
    expect(({} as Record<string, unknown>).client_ip).toBeUndefined();
    await stillServing();
  });

  it('invalid UTF-8 bytes in the body: refused, not decoded into an allowed address', async () => {
    const body = Buffer.concat([
      Buffer.from(`{"endpoint":"${LEDGER}","client_ip":"127.0.0.2`),
      Buffer.from([0xc0, 0xaf, 0xff]),
      Buffer.from('"}'),
    ]);
    const r = await post(body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    await stillServing();
  });

  it('duplicate keys: the last one counts (as JSON.parse reads it), and the decision and its log say the same', async () => {
    const r = await post(`{"endpoint":"${LEDGER}","client_ip":"127.0.0.2","client_ip":"127.0.0.3"}`);
    expect(r.status).toBe(200);
    expect(r.json().allowed).toBe(false);
    const last = decision
      .lines()
      .filter((l) => l.msg === 'decision')
      .at(-1);
    expect(last).toMatchObject({ client: { ip: '127.0.0.3' } });
  });
});

describe('headers and paths', () => {
  it('a 64 KiB X-Forwarded-For and 2,000 repeated headers: refused by the HTTP parser (431), serving goes on', async () => {
    const long = await httpRequest({
      port: decision.port,
      path: `/v1/forward-auth/x?endpoint=${encodeURIComponent(LEDGER)}`,
      headers: { ...bearer(), 'x-forwarded-for': Array(8_000).fill('127.0.0.2').join(',') },
    }).catch((error: Error) => ({ status: 0, text: error.message }));
    expect([0, 431]).toContain(long.status);
    const many = await httpRequest({
      port: decision.port,
      path: `/v1/forward-auth/x?endpoint=${encodeURIComponent(LEDGER)}`,
      headers: { ...bearer(), 'x-real-ip': Array(2_000).fill('127.0.0.2') },
    }).catch((error: Error) => ({ status: 0, text: error.message }));
    expect([0, 400, 431]).toContain(many.status);
    await stillServing();
  });

  it.each([
    ['the token with a byte more', `Bearer ${TOKEN}x`],
    ['the token with a byte less', `Bearer ${TOKEN.slice(0, -1)}`],
    ['the token twice', `Bearer ${TOKEN} ${TOKEN}`],
    ['another scheme', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`],
    ['no scheme', TOKEN],
    ['a NUL after the token', `Bearer ${TOKEN}\u0000`],
  ])('Authorization with %s: 401', async (_name, value) => {
    const r = await httpRequest({
      port: decision.port,
      path: '/v1/identities/127.0.0.2',
      headers: { authorization: value },
    }).catch((error: Error) => ({ status: 0, text: error.message }));
    // Node refuses a NUL in a header value before sending: nothing reached the service.
    expect([0, 400, 401]).toContain(r.status);
    if (r.status !== 0) expect(r.status).not.toBe(200);
    await stillServing();
  });

  it.each([
    '/v1/identities/..%2f..%2fhealthz',
    '/v1/identities/127.0.0.2%00',
    `/v1/identities/${'1'.repeat(10_000)}`,
    '/v1/identities/%ZZ',
    '/v1/identities/127.0.0.2?__proto__[x]=1',
  ])('GET %s: no identity for a mangled address, and serving goes on', async (path) => {
    const r = await httpRequest({ port: decision.port, path, headers: bearer() }).catch((error: Error) => ({
      status: 0,
      text: error.message,
    }));
    if (path.endsWith('?__proto__[x]=1')) expect(r.status).toBe(200);
    else expect(r.status === 0 || (r.status >= 400 && r.status < 500), `${r.status} ${r.text}`).toBe(true);
    await stillServing();
  });
});

describe('fuzzed policy files through POST /v1/validate', () => {
  const seedDir = new URL('../../examples/seed/', import.meta.url);
  const seeds = readdirSync(seedDir)
    .sort()
    .map((f) => readFileSync(new URL(f, seedDir), 'utf8'));
  const tokens = [
    '\n',
    '  ',
    '- ',
    ': ',
    '"',
    "'",
    '[',
    '{',
    '&a ',
    '*a',
    '!',
    '---\n',
    '__proto__',
    '#',
    'conn.k8s.pod.metadata.namespace',
    ' == ',
    '.matches("(a+)+$")',
    ' in [',
    ')',
    '(',
    '\t',
    '\u00e9',
  ];
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...tokens)), { minLength: 1, maxLength: 3 }),
    )
    .map(([text, edits]) => {
      let out = text;
      for (const [at, cut, token] of edits) {
        const i = at % (out.length + 1);
        out = out.slice(0, i) + token + out.slice(i + cut);
      }
      return out;
    });

  it('each mutated seed is 200 (loads) or 422 with diagnostics at line and column; never 5xx', async () => {
    const seen = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(mutated, async (text) => {
        const r = await httpRequest({
          port: decision.port,
          path: '/v1/validate',
          method: 'POST',
          headers: { ...bearer(), 'content-type': 'application/yaml' },
          body: text,
        });
        expect([200, 422], r.text).toContain(r.status);
        if (r.status === 200) {
          seen.loaded++;
          return;
        }
        seen.refused++;
        const diagnostics = r.json().diagnostics as Array<{ line: number; column: number; severity: string }>;
        const errors = diagnostics.filter((d) => d.severity === 'error');
        expect(errors.length, r.text).toBeGreaterThan(0);
        for (const d of errors) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: Number(process.env.ADVERSARIAL_VALIDATE_RUNS ?? 150), seed: 42 },
    );
    expect(seen.loaded, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    await stillServing();
  }, 120_000);
});

describe('deeply nested YAML through POST /v1/validate', () => {
  // A block sequence nests a level every two characters: within the 1 MiB body limit, half a
  // million levels. Left to the YAML parser, a couple of thousand could kill a fresh process
  // (V8's fatal error near a stack overflow) and a 1 MiB body held the event loop for seconds.
  it.each([
    ['block sequences', `on_tcp_connect:\n${'- '.repeat(500_000)}a\n`],
    ['block mappings', `${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} v\n`],
    ['flow inside block', `on_tcp_connect:\n${'- '.repeat(40)}${'['.repeat(400_000)}\n`],
  ])('%s: 422 saying so, and decisions go on', async (_name, body) => {
    const r = await httpRequest({
      port: decision.port,
      path: '/v1/validate',
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/yaml' },
      body,
    });
    expect(r.status, r.text.slice(0, 300)).toBe(422);
    expect(r.json().diagnostics).toContainEqual(
      expect.objectContaining({ message: 'YAML: nesting is too deep (the limit is 64 levels)' }),
    );
    await stillServing();
  });
});
