// Redis goes away under a running `podgate decision` (stopped, then hung): every decision
// follows its endpoint's policy within the lookup deadline (fail-closed denies, fail-open
// allows), /readyz answers 503, GET /v1/identities says store_unavailable; once Redis is back
// and the watcher has refilled it, decisions are right again without restarting the service.
import { afterEach, describe, expect, it } from 'vitest';
import {
  bearer,
  type DecisionOnRedis,
  decideOver,
  httpRequest,
  startDecisionOnRedis,
  tempFiles,
} from './decision-support.js';

const FAIL_CLOSED = 'tcp://ledger.payments:5432';
const FAIL_OPEN = 'tcp://status.payments:8080';
const LOOKUP_TIMEOUT_MS = 150;
const files = tempFiles('decision-outage-');

let store: DecisionOnRedis | undefined;
afterEach(async () => {
  await store?.stop();
  store = undefined;
});

async function start() {
  store = await startDecisionOnRedis({
    keyPrefix: 'outage:',
    files,
    flags: ['--lookup-timeout', `${LOOKUP_TIMEOUT_MS}ms`],
  });
  return store;
}

/** [fail-closed for the payments pod, for the web pod, fail-open for both], and the slowest answer. */
async function verdicts(port: number) {
  const started = performance.now();
  const answers = await Promise.all([
    decideOver(port, FAIL_CLOSED, '127.0.0.2'),
    decideOver(port, FAIL_CLOSED, '127.0.0.3'),
    decideOver(port, FAIL_OPEN, '127.0.0.2'),
    decideOver(port, FAIL_OPEN, '127.0.0.3'),
  ]);
  return {
    allowed: answers.map((a) => a.allowed),
    reasons: answers.map((a) => (a.lookup.found ? 'found' : a.lookup.reason)),
    ms: performance.now() - started,
  };
}

const readyz = async (port: number) => (await httpRequest({ port, path: '/readyz' })).status;

describe('podgate decision: the store goes away and comes back', () => {
  it('stopped: decisions follow each policy within the deadline, /readyz 503; restarted: right again', async () => {
    const { redis, decision, restartRedis } = await start();
    const { port } = decision;
    expect((await verdicts(port)).allowed).toEqual([true, false, true, false]);
    expect(await readyz(port)).toBe(200);

    await redis.stop();
    const down = await verdicts(port);
    // Unknown identity: fail-closed refuses everyone, fail-open lets everyone through.
    expect(down.allowed).toEqual([false, false, true, true]);
    expect(down.reasons).toEqual([
      'store_unavailable',
      'store_unavailable',
      'store_unavailable',
      'store_unavailable',
    ]);
    expect(down.ms).toBeLessThan(LOOKUP_TIMEOUT_MS + 1_000);
    await expect.poll(() => readyz(port), { timeout: 10_000, interval: 200 }).toBe(503);
    const ready = (await httpRequest({ port, path: '/readyz' })).json();
    expect(ready).toMatchObject({ status: 'not ready', store: expect.stringMatching(/^unreachable: /) });
    const identity = await httpRequest({ port, path: '/v1/identities/127.0.0.2', headers: bearer() });
    expect(identity.json()).toMatchObject({
      identity: { metadata: { error_code: 'ERR_NGROK_28001' } },
      lookup: { found: false, reason: 'store_unavailable' },
    });
    const metrics = (await httpRequest({ port, path: '/metrics' })).text;
    expect(metrics).toMatch(/^podgate_decision_store_reachable 0$/m);
    expect(metrics).toMatch(
      /^podgate_decision_lookup_duration_seconds_count\{result="store_unavailable"\} [1-9]/m,
    );

    // Back on the same port, empty; the watcher (here: seedRedis) writes it again.
    await restartRedis();
    await expect
      .poll(async () => (await verdicts(port)).allowed, { timeout: 15_000, interval: 200 })
      .toEqual([true, false, true, false]);
    await expect.poll(() => readyz(port), { timeout: 10_000, interval: 200 }).toBe(200);
    expect(decision.lines()).toContainEqual(expect.objectContaining({ msg: 'identity store reachable' }));
  });

  it('hung (no answer at all): every decision still comes back within the deadline', async () => {
    const { redis, decision } = await start();
    const { port } = decision;
    expect((await verdicts(port)).allowed).toEqual([true, false, true, false]);
    redis.pause();
    const hung = await verdicts(port);
    expect(hung.allowed).toEqual([false, false, true, true]);
    expect(hung.reasons.every((r) => r === 'store_unavailable')).toBe(true);
    expect(hung.ms).toBeLessThan(LOOKUP_TIMEOUT_MS + 1_000);
    await expect.poll(() => readyz(port), { timeout: 10_000, interval: 200 }).toBe(503);
    redis.resume();
    await expect
      .poll(async () => (await verdicts(port)).allowed, { timeout: 10_000, interval: 200 })
      .toEqual([true, false, true, false]);
    await expect.poll(() => readyz(port), { timeout: 10_000, interval: 200 }).toBe(200);
  });
});
