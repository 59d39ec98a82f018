import { describe, expect, it } from 'vitest';
import { createCounter, createGauge, createHistogram, createRegistry } from './metrics.js';

describe('metrics helpers', () => {
  it('register on the given registry only, with labels', async () => {
    const a = createRegistry();
    const b = createRegistry();
    createCounter(a, 'podgate_x_total', 'X.', ['op']).inc({ op: 'claim' }, 2);
    createGauge(a, 'podgate_y', 'Y.').set(7);
    createHistogram(a, 'podgate_z_seconds', 'Z.', [0.1, 1]).observe(0.5);
    const text = await a.metrics();
    expect(text).toMatch(/^podgate_x_total\{op="claim"\} 2$/m);
    expect(text).toMatch(/^podgate_y 7$/m);
    expect(text).toMatch(/^podgate_z_seconds_bucket\{le="1"\} 1$/m);
    expect((await b.metrics()).trim()).toBe('');
    // The same names on another registry do not clash.
    createCounter(b, 'podgate_x_total', 'X.').inc();
  });

  it('adds process metrics when asked', async () => {
    const registry = createRegistry({ processMetricsPrefix: 'podgate_test_' });
    expect(await registry.metrics()).toMatch(/^podgate_test_process_cpu_user_seconds_total /m);
  });
});
