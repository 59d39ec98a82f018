import { describe, expect, it } from 'vitest';
import { manualSignals, nextSignal, onSignals } from './signals.js';

describe('signals', () => {
  it('nextSignal resolves with the first stop signal and stops listening', async () => {
    const signals = manualSignals();
    const next = nextSignal(signals);
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.raise('SIGHUP');
    signals.raise('SIGINT');
    expect(await next).toBe('SIGINT');
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
  });

  it('onSignals calls back on each signal until unsubscribed', () => {
    const signals = manualSignals();
    const seen: string[] = [];
    const off = onSignals(signals, ['SIGHUP'], (s) => seen.push(s));
    signals.raise('SIGHUP');
    signals.raise('SIGHUP');
    off();
    signals.raise('SIGHUP');
    expect(seen).toEqual(['SIGHUP', 'SIGHUP']);
  });

  it('works with process itself', async () => {
    const next = nextSignal(process, ['SIGUSR2']);
    process.kill(process.pid, 'SIGUSR2');
    expect(await next).toBe('SIGUSR2');
  });
});
