// POST /v1/decisions over a real socket, the body arriving every way a client can send it: with
// its headers in one packet (read at once from Node's parser), after them, chunked, two requests
// pipelined in one packet, empty, not JSON. Each answer is the one the in-process app gives.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceOnSocket, TOKEN, testApp } from '../../test/fixtures.js';
import type { DecisionService } from '../service.js';

const LEDGER = 'tcp://ledger.payments:5432';
let service: DecisionService;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ service, stop } = await startServiceOnSocket());
});
afterAll(() => stop());

const head = (extra: string) =>
  `POST /v1/decisions HTTP/1.1\r\nHost: podgate\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n${extra}\r\n`;

interface Answer {
  status: number;
  body: unknown;
}

/** Sends the pieces with a pause between them; the answers, read until the server closes. */
function exchange(pieces: string[], pauseMs = 30): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(service.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(parseAnswers(text)));
    socket.on('connect', async () => {
      for (const [i, piece] of pieces.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, pauseMs));
        socket.write(piece);
      }
    });
  });
}

function parseAnswers(text: string): Answer[] {
  const answers: Answer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`a partial answer: ${JSON.stringify(rest)}`);
    const headers = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1]);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(headers)?.[1] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    answers.push({ status, body: body === '' ? null : JSON.parse(body) });
    rest = rest.slice(end + 4 + length);
  }
  return answers;
}

const json = (clientIp: string) => JSON.stringify({ endpoint: LEDGER, client_ip: clientIp });
const sized = (body: string, close = true) =>
  head(`Content-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}`) + body;

async function inProcess(body: string): Promise<Answer> {
  const t = await testApp();
  const res = await t.request('/v1/decisions', { method: 'POST', body });
  return { status: res.status, body: await res.json() };
}

describe('POST /v1/decisions over a socket', () => {
  it('a body in the same packet as its headers', async () => {
    const [answer] = await exchange([sized(json('10.1.0.1'))]);
    expect(answer).toEqual(await inProcess(json('10.1.0.1')));
    expect(answer!.status).toBe(200);
  });

  it('a body that arrives after its headers, whole or in two parts', async () => {
    const body = json('10.1.0.2');
    const whole = sized(body);
    const split = whole.indexOf('\r\n\r\n') + 4;
    const late = await exchange([whole.slice(0, split), whole.slice(split)]);
    const halves = await exchange([whole.slice(0, split + 10), whole.slice(split + 10)]);
    const expected = await inProcess(body);
    expect(late).toEqual([expected]);
    expect(halves).toEqual([expected]);
    expect(expected).toMatchObject({ status: 200, body: { allowed: false } });
  });

  it('a chunked body, sent in pieces', async () => {
    const body = json('10.1.0.1');
    const answers = await exchange([
      head('Transfer-Encoding: chunked\r\nConnection: close\r\n'),
      `${(10).toString(16)}\r\n${body.slice(0, 10)}\r\n`,
      `${(body.length - 10).toString(16)}\r\n${body.slice(10)}\r\n0\r\n\r\n`,
    ]);
    expect(answers).toEqual([await inProcess(body)]);
  });

  it('two requests in one packet: each reads its own body', async () => {
    const answers = await exchange([sized(json('10.1.0.1'), false) + sized(json('10.1.0.3'))]);
    expect(answers).toEqual([await inProcess(json('10.1.0.1')), await inProcess(json('10.1.0.3'))]);
    expect(answers.map((a) => (a.body as { identity: { id: string } }).identity.id)).toEqual([
      'uid-worker',
      'uid-batch',
    ]);
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{"endpoint": '],
    ['not an object', '[1, 2]'],
    ['an unknown field', '{"endpoint":"tcp://ledger.payments:5432","client_ip":"10.1.0.1","x":1}'],
  ])('a body that is %s: the same 400 as in-process', async (_what, body) => {
    const [answer] = await exchange([sized(body)]);
    expect(answer).toEqual(await inProcess(body));
    expect(answer!.status).toBe(400);
  });
});
