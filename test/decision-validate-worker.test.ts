// POST /v1/validate loads its text off the thread that answers decisions (a worker thread
// with a heap limit and a deadline): a large or hostile text holds no decision, costs no more
// than the limits, and a flood of them is told to retry. Over real HTTP against `podgate
// decision` (run in this test's own thread, so a validation on the request thread would hold
// this test's requests too) on a real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  decideOver,
  type HttpAnswer,
  httpRequest,
  type RunningDecision,
  type SeededRedis,
  startSeededRedis,
  tempFiles,
  UNHURRIED_LOOKUPS,
} from './decision-support.js';

const LEDGER = 'tcp://ledger.payments:5432';
/** About 1 MiB that takes seconds and hundreds of MiB of heap to load. */
const HEAVY = `x:\n${'  - [a, b, {c: d}]\n'.repeat(55_000)}`;

let store: SeededRedis;
const files = tempFiles('decision-validate-');

beforeAll(async () => {
  store = await startSeededRedis({ keyPrefix: 'val:', files });
});
afterAll(async () => {
  for (const code of (await store?.stop()) ?? []) expect(code).toBe(0);
});

// A decision refused for a lookup past the 200 ms default (a loaded machine, a worker thread
// loading beside it) would fail these tests for the wrong reason; the order of the answers is
// what tells a validation on the request thread.
const start = (...flags: string[]): Promise<RunningDecision> =>
  store.start({ flags: [...UNHURRIED_LOOKUPS, ...flags] });

const validate = (port: number, body: string): Promise<HttpAnswer> =>
  httpRequest({
    port,
    path: '/v1/validate',
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/yaml' },
    body,
  });

describe('POST /v1/validate runs beside decisions, not in front of them', () => {
  it('decisions sent while a 1 MiB text loads are answered before it', async () => {
    const d = await start('--validate-memory', '1024MiB', '--validate-timeout', '2m');
    const order: string[] = [];
    const heavy = validate(d.port, HEAVY).then((r) => {
      order.push('validate');
      return r;
    });
    for (let i = 0; i < 10; i++) {
      const ip = i % 2 === 0 ? '127.0.0.2' : '127.0.0.3';
      expect((await decideOver(d.port, LEDGER, ip)).allowed).toBe(ip === '127.0.0.2');
      order.push('decision');
    }
    const r = await heavy;
    // The text is refused by the loader after seconds of work; every decision came first.
    expect(r.status, r.text.slice(0, 300)).toBe(422);
    expect(r.json().error.code).toBe('invalid_policy');
    expect(order).toEqual([...Array(10).fill('decision'), 'validate']);
  }, 120_000);

  it('past the worker heap (default 32 MiB): 422 validation_limit, the process serves on; a flood is told to retry', async () => {
    const d = await start();
    const r = await validate(d.port, HEAVY);
    expect(r.status, r.text.slice(0, 300)).toBe(422);
    expect(r.json().error).toEqual({
      code: 'validation_limit',
      message:
        'validation stopped: loading the configuration needed more than 32 MiB (--validate-memory); split it, or run podgate validate on it',
    });
    expect((await decideOver(d.port, LEDGER, '127.0.0.2')).allowed).toBe(true);
    expect(
      d.lines().some((l) => String(l.msg).startsWith('validation stopped') && l.limit === 'memory'),
    ).toBe(true);

    // One loads, four wait: the rest are 503 busy with Retry-After, and nothing is lost.
    const flood = await Promise.all(Array.from({ length: 8 }, () => validate(d.port, HEAVY.slice(0, 4_000))));
    const statuses = flood.map((a) => a.status);
    expect(statuses.filter((s) => s === 422)).toHaveLength(5);
    const busy = flood.filter((a) => a.status === 503);
    expect(busy).toHaveLength(3);
    for (const b of busy) {
      expect(b.json().error.code).toBe('busy');
      expect(b.headers['retry-after']).toBe('1');
    }
    const metrics = await httpRequest({ port: d.port, path: '/metrics', method: 'GET' });
    expect(metrics.text).toMatch(/podgate_decision_errors_total\{code="busy"\} 3\b/);
    expect(metrics.text).toMatch(/podgate_decision_errors_total\{code="validation_limit"\} 1\b/);
  }, 120_000);
});
