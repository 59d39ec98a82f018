import { memoryLogger } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../exit-codes.js';
import { serveUntilStopped } from './serve.js';
import { manualSignals, nextSignal } from './signals.js';

/** A handle whose stop() takes `stopMs` (Infinity: never ends on its own). */
function handle(stopMs: number) {
  const calls: string[] = [];
  let release!: () => void;
  return {
    calls,
    stop: () => {
      calls.push('stop');
      return new Promise<void>((resolve) => {
        release = resolve;
        if (Number.isFinite(stopMs)) setTimeout(resolve, stopMs);
      });
    },
    forceStop: () => {
      calls.push('force');
      release?.();
    },
  };
}

describe('serveUntilStopped', () => {
  it('waits for the stop request, drains, and exits 0 when stop() finishes in time', async () => {
    const signals = manualSignals();
    const { lines, logger } = memoryLogger();
    const h = handle(20);
    const serving = serveUntilStopped(h, {
      stopRequested: nextSignal(signals),
      signals,
      drainTimeoutMs: 5_000,
      logger,
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(h.calls).toEqual([]);
    signals.raise('SIGTERM');
    expect(await serving).toBe(EXIT.ok);
    expect(h.calls).toEqual(['stop']);
    expect(lines().map((l) => [l.msg, l.signal])).toEqual([['stopping', 'SIGTERM']]);
  });

  it('forces the stop once the drain deadline passes, and exits 3', async () => {
    const { lines, logger } = memoryLogger();
    const h = handle(Number.POSITIVE_INFINITY);
    const start = Date.now();
    const code = await serveUntilStopped(h, {
      stopRequested: Promise.resolve('SIGTERM'),
      drainTimeoutMs: 50,
      logger,
    });
    expect(code).toBe(EXIT.forced);
    expect(Date.now() - start).toBeLessThan(2_000);
    expect(h.calls).toEqual(['stop', 'force']);
    expect(lines().at(-1)).toMatchObject({ level: 50, why: 'the drain deadline (50 ms) passed' });
  });

  it('a second stop signal while draining forces the stop at once', async () => {
    const signals = manualSignals();
    const { lines, logger } = memoryLogger();
    const h = handle(Number.POSITIVE_INFINITY);
    const serving = serveUntilStopped(h, {
      stopRequested: nextSignal(signals),
      signals,
      drainTimeoutMs: 60_000,
      logger,
    });
    signals.raise('SIGTERM');
    await new Promise((r) => setTimeout(r, 10));
    signals.raise('SIGINT');
    expect(await serving).toBe(EXIT.forced);
    expect(lines().at(-1)).toMatchObject({ why: 'SIGINT arrived while draining' });
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('a stop() that fails is logged and exits 1', async () => {
    const { lines, logger } = memoryLogger();
    const code = await serveUntilStopped(
      { stop: () => Promise.reject(new Error('flush failed')) },
      { stopRequested: Promise.resolve('SIGINT'), drainTimeoutMs: 1_000, logger },
    );
    expect(code).toBe(EXIT.invalid);
    expect(lines().at(-1)).toMatchObject({ msg: 'stop failed', err: 'flush failed' });
  });

  it('a forceStop() that hangs does not keep it from returning', async () => {
    const { logger } = memoryLogger();
    const code = await serveUntilStopped(
      { stop: () => new Promise<void>(() => {}), forceStop: () => new Promise<void>(() => {}) },
      { stopRequested: Promise.resolve('SIGTERM'), drainTimeoutMs: 10, logger },
    );
    expect(code).toBe(EXIT.forced);
  });
});
