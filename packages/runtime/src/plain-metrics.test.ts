import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createPlainCounter, createPlainHistogram } from './plain-metrics.js';

/** As JSON says it, without prom-client's `exemplar` (null or undefined: exemplars are off). */
const json = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (k, v) => (k === 'exemplar' ? undefined : v)));
const BUCKETS = [0.001, 0.0025, 0.01, 0.1, 1];
const OBSERVED = [0, 0.001, 0.0011, 0.002, 0.0025, 0.05, 0.1, 0.7, 1, 3, 1e-9];

describe('plain metrics', () => {
  it("a histogram's text is prom-client's, byte for byte, for the same observations", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({
      name: 'x_seconds',
      help: 'Help "quoted" \\ text.',
      buckets: BUCKETS,
      labelNames: ['route', 'result'],
      registers: [theirs],
    });
    const plain = createPlainHistogram(ours, 'x_seconds', 'Help "quoted" \\ text.', BUCKETS, [
      'route',
      'result',
    ]);
    OBSERVED.forEach((v, i) => {
      const labels = i % 3 === 0 ? ['decisions', 'found'] : ['forward_auth', 'a"b\\c\nd'];
      reference.labels(...labels).observe(v);
      plain.labels(...labels).observe(v);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(json(await ours.getMetricsAsJSON())).toEqual(json(await theirs.getMetricsAsJSON()));
  });

  it("a counter's text is prom-client's, byte for byte", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'y_total', help: 'Y.', labelNames: ['code'], registers: [theirs] });
    const plain = createPlainCounter(ours, 'y_total', 'Y.', ['code']);
    for (const [code, by] of [
      ['a', 1],
      ['b', 2.5],
      ['a', 3],
    ] as const) {
      reference.labels(code).inc(by);
      plain.labels(code).inc(by);
    }
    reference.labels('c').inc();
    plain.labels('c').inc();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(json(await ours.getMetricsAsJSON())).toEqual(json(await theirs.getMetricsAsJSON()));
  });

  it('a child is kept per label set, counts add up, and reset clears them', async () => {
    const registry = new Registry();
    const counter = createPlainCounter(registry, 'z_total', 'Z.', ['k']);
    expect(counter.labels('a')).toBe(counter.labels('a'));
    counter.labels('a').inc();
    counter.labels('a').inc(2);
    expect(await registry.metrics()).toMatch(/^z_total\{k="a"\} 3$/m);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toMatch(/z_total\{/);
  });

  it('refuses what prom-client refuses: a counter going down, a non-finite observation, a wrong label count, a clash', () => {
    const registry = new Registry();
    const counter = createPlainCounter(registry, 'c_total', 'C.', ['k']);
    const histogram = createPlainHistogram(registry, 'h_seconds', 'H.', BUCKETS, ['k']);
    expect(() => counter.labels('a').inc(-1)).toThrow();
    expect(() => histogram.labels('a').observe(Number.NaN)).toThrow();
    expect(() => counter.labels('a', 'b')).toThrow(/expected 1 label values/);
    expect(() => createPlainCounter(registry, 'c_total', 'again', ['k'])).toThrow(/already been registered/);
    expect(() => createPlainCounter(registry, 'n_total', 'No labels.', [])).toThrow(/needs label names/);
  });
});
