// The validation pool on real worker threads: answers as the loader gives them, limits that
// cost the worker and never the caller's thread, a bounded queue, and a clean stop.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DIAGNOSTICS, MAX_MESSAGE_CHARS, validatePolicyText } from './outcome.js';
import { createValidator, type Validator, type ValidatorOptions } from './pool.js';
import { spawnValidationWorker } from './spawn.js';

const GOOD = `on_tcp_connect:
  - expressions: ['conn.k8s.pod.metadata.namespace != "payments"']
    actions: [{type: deny}]
`;
const BAD = `on_tcp_connect:
  - expressions: ['conn.k8s.pod.metadata.namespace !=']
    actions: [{type: deny}]
`;
/** About 1 MiB that loads slowly and needs hundreds of MiB of heap (every item a few nodes). */
const HEAVY = `x:\n${'  - [a, b, {c: d}]\n'.repeat(55_000)}`;

const open: Validator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((v) => v.close()));
});

function validator(options: Partial<ValidatorOptions> = {}): Validator {
  const v = createValidator({ timeoutMs: 20_000, maxHeapBytes: 64 * 1024 * 1024, ...options });
  open.push(v);
  return v;
}

describe('the validation pool', () => {
  it('answers what the loader answers on this thread, for good and bad texts', async () => {
    const v = validator();
    for (const text of [GOOD, BAD, 'on_tcp_connect: [', '- - - a\n', 'kind: Nope\n']) {
      expect(await v.validate(text)).toEqual({ kind: 'done', outcome: validatePolicyText(text) });
    }
    // One worker served them all.
    expect(v.workersStarted).toBe(1);
  });

  it('a text past the deadline costs its worker, not the caller; the next text gets a new one', async () => {
    const v = validator({ timeoutMs: 300, maxHeapBytes: 1024 * 1024 * 1024 });
    await v.validate(GOOD); // the worker is up: the deadline measures the text alone
    const started = performance.now();
    expect(await v.validate(HEAVY)).toEqual({ kind: 'limit', reason: 'time' });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await v.validate(GOOD)).toEqual({ kind: 'done', outcome: validatePolicyText(GOOD) });
    expect(v.workersStarted).toBe(2);
  });

  it('a text past the heap limit stops the worker (the process lives on); the next text is answered', async () => {
    // The default heap: the engine itself needs part of it (16 MiB was too tight on Node 24 from the sources).
    const v = validator({ maxHeapBytes: 32 * 1024 * 1024 });
    expect(await v.validate(HEAVY)).toEqual({ kind: 'limit', reason: 'memory' });
    expect(await v.validate(BAD)).toEqual({ kind: 'done', outcome: validatePolicyText(BAD) });
    expect(v.workersStarted).toBe(2);
  });

  it('texts wait their turn up to maxWaiting; past it: busy, at once', async () => {
    const v = validator({ maxWaiting: 2 });
    const first = v.validate(HEAVY.slice(0, 20_000)); // the worker is not even up yet: all of these arrive together
    const waiting = [v.validate(GOOD), v.validate(BAD)];
    expect(await v.validate(GOOD)).toEqual({ kind: 'busy', reason: 'queue' });
    expect((await first).kind).toBe('done');
    expect(await Promise.all(waiting)).toEqual([
      { kind: 'done', outcome: validatePolicyText(GOOD) },
      { kind: 'done', outcome: validatePolicyText(BAD) },
    ]);
  });

  it('close: the text in the worker and those waiting are answered busy (stopping), and so is any after', async () => {
    const v = validator();
    const inWorker = v.validate(HEAVY);
    const waiting = v.validate(GOOD);
    await v.close();
    expect(await inWorker).toEqual({ kind: 'busy', reason: 'stopping' });
    expect(await waiting).toEqual({ kind: 'busy', reason: 'stopping' });
    expect(await v.validate(GOOD)).toEqual({ kind: 'busy', reason: 'stopping' });
  });

  it('an idle worker is stopped; the next text starts another', async () => {
    const v = validator({ idleMs: 50 });
    await v.validate(GOOD);
    await new Promise((r) => setTimeout(r, 300));
    expect((await v.validate(GOOD)).kind).toBe('done');
    expect(v.workersStarted).toBe(2);
  });

  it('a worker that dies or never starts is a failure told as such, and the pool recovers', async () => {
    let spawned = 0;
    const dying = `const { parentPort } = require('node:worker_threads');
      parentPort.postMessage({ ready: true });
      parentPort.on('message', () => process.exit(7));`;
    const mute = `setInterval(() => {}, 1000);`;
    const v = validator({
      startTimeoutMs: 500,
      spawn: () => new Worker(++spawned === 1 ? dying : mute, { eval: true }),
    });
    expect(await v.validate(GOOD)).toEqual({
      kind: 'failed',
      message: 'the validation worker exited (code 7)',
    });
    expect(await v.validate(GOOD)).toEqual({
      kind: 'failed',
      message: 'the validation worker did not start in 500 ms',
    });
    expect(spawned).toBe(2);
  });

  it('a worker that cannot be created fails each text as it comes (none is left waiting); the pool recovers', async () => {
    let calls = 0;
    const v = validator({
      spawn: (limits) => {
        if (++calls <= 2) throw new Error('ERR_WORKER_INIT_FAILED');
        return spawnValidationWorker(limits);
      },
    });
    const [first, second, third] = await Promise.all([v.validate(GOOD), v.validate(BAD), v.validate(GOOD)]);
    expect(first).toEqual({ kind: 'failed', message: 'no validation worker: ERR_WORKER_INIT_FAILED' });
    expect(second).toEqual({ kind: 'failed', message: 'no validation worker: ERR_WORKER_INIT_FAILED' });
    expect(third).toEqual({ kind: 'done', outcome: validatePolicyText(GOOD) });
  });

  it('a worker saying ready twice does not post its text twice (a stale deadline would stop the next text)', async () => {
    // Replies 200 ms after each text; says ready again while the first text runs.
    const twice = `const { parentPort } = require('node:worker_threads');
      parentPort.postMessage({ ready: true });
      setTimeout(() => parentPort.postMessage({ ready: true }), 50);
      parentPort.on('message', (job) => setTimeout(() => parentPort.postMessage({ id: job.id, outcome: { valid: false, errorCount: 0, diagnostics: [], omitted: 0 } }), 200));`;
    const v = validator({ timeoutMs: 300, spawn: () => new Worker(twice, { eval: true }) });
    expect((await v.validate('a')).kind).toBe('done');
    expect((await v.validate('b')).kind).toBe('done');
  });

  it('says when it is full, so a caller can refuse before reading a body', async () => {
    const v = validator({ maxWaiting: 1 });
    expect(v.full).toBe(false);
    const running = v.validate(GOOD);
    expect(v.full).toBe(false);
    const waiting = v.validate(BAD);
    expect(v.full).toBe(true);
    await Promise.all([running, waiting]);
    expect(v.full).toBe(false);
  });
});

describe('validatePolicyText', () => {
  it('answers at most MAX_DIAGNOSTICS diagnostics of at most MAX_MESSAGE_CHARS, and counts the rest', () => {
    // Each empty document of a bare word is a diagnostic: 96 KB of them were a 5 MB answer.
    const outcome = validatePolicyText('---\nx\n'.repeat(300));
    expect(outcome.valid).toBe(false);
    expect(outcome.diagnostics).toHaveLength(MAX_DIAGNOSTICS);
    expect(outcome.diagnostics.length + outcome.omitted).toBeGreaterThanOrEqual(300);
    const long = validatePolicyText(
      `on_tcp_connect:\n  - actions: [{type: ${'t'.repeat(5000)}}]\n`, // the loader quotes the unknown type whole
    );
    for (const d of [...outcome.diagnostics, ...long.diagnostics]) {
      expect(d.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS + 3);
      expect(d.text.endsWith(d.message)).toBe(true);
    }
    expect(long.diagnostics.some((d) => d.message.endsWith('...'))).toBe(true);
  });
});
