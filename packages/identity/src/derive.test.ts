import { describe, expect, it } from 'vitest';
import { derivePodRecord, truncateUtf8 } from './derive.js';
import { IdentityError } from './errors.js';
import type { PodLike } from './pod-like.js';

const base = (over: Record<string, unknown> = {}): PodLike =>
  ({
    metadata: {
      uid: '0b6a3f0e-1f2c-4c1e-9a7e-4a9f7a1b2c3d',
      name: 'web-0',
      namespace: 'payments',
      resourceVersion: '4711',
      annotations: { 'k8s.ngrok.com/environment': 'production', 'other.io/x': 'y' },
    },
    spec: {},
    status: { phase: 'Running', podIP: '10.1.2.3', podIPs: [{ ip: '10.1.2.3' }, { ip: 'FD00::3' }] },
    ...over,
  }) as PodLike;

describe('derivePodRecord', () => {
  it('derives identity, prefixed annotations and every pod IP', () => {
    expect(derivePodRecord(base())).toEqual({
      uid: '0b6a3f0e-1f2c-4c1e-9a7e-4a9f7a1b2c3d',
      name: 'web-0',
      namespace: 'payments',
      annotations: { 'k8s.ngrok.com/environment': 'production' },
      errorCode: '',
      errorMessage: '',
      ips: ['10.1.2.3', 'fd00::3'],
      resourceVersion: '4711',
    });
  });

  it.each([
    ['podIPs wins over podIP', { podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.1' }] }, ['10.0.0.1']],
    ['podIP when podIPs is absent', { podIP: '10.0.0.9' }, ['10.0.0.9']],
    ['podIP when podIPs is empty', { podIP: '10.0.0.9', podIPs: [] }, ['10.0.0.9']],
    ['canonical and deduplicated', { podIPs: [{ ip: '::ffff:10.0.0.1' }, { ip: '10.0.0.1' }] }, ['10.0.0.1']],
    [
      'invalid IPs skipped',
      { podIPs: [{ ip: '10.0.0.01' }, { ip: 42 }, {}, 'x', { ip: 'fd00::1' }] },
      ['fd00::1'],
    ],
    ['no IP yet (Pending)', { phase: 'Pending' }, []],
    ['Succeeded owns none', { phase: 'Succeeded', podIP: '10.0.0.1' }, []],
    ['Failed owns none', { phase: 'Failed', podIP: '10.0.0.1' }, []],
    ['Unknown phase keeps its IP', { phase: 'Unknown', podIP: '10.0.0.1' }, ['10.0.0.1']],
    ['status is garbage', 'nope', []],
  ])('IPs: %s', (_, status, ips) => {
    expect(derivePodRecord(base({ status })).ips).toEqual(ips);
  });

  it('a hostNetwork pod owns no IP (its IP is the node’s)', () => {
    expect(derivePodRecord(base({ spec: { hostNetwork: true } })).ips).toEqual([]);
  });

  it('a terminating pod keeps its IPs', () => {
    const pod = base();
    pod.metadata!.deletionTimestamp = '2025-01-01T00:00:00Z';
    expect(derivePodRecord(pod).ips).toEqual(['10.1.2.3', 'fd00::3']);
  });

  it.each([
    ['uid', { name: 'a', namespace: 'b' }],
    ['name', { uid: 'u', namespace: 'b' }],
    ['namespace', { uid: 'u', name: 'a', annotations: 7 }],
  ])('refuses a pod without %s', (field, metadata) => {
    expect(() => derivePodRecord({ metadata } as PodLike)).toThrow(new RegExp(`metadata.${field}`));
    try {
      derivePodRecord({ metadata } as PodLike);
    } catch (err) {
      expect((err as IdentityError).code).toBe('invalid_pod');
    }
  });

  it('tolerates hostile input', () => {
    for (const pod of [null, 42, 'pod', [], { metadata: 'x' }]) {
      expect(() => derivePodRecord(pod as unknown as PodLike)).toThrow(IdentityError);
    }
    const weird = derivePodRecord({
      metadata: {
        uid: 'u',
        name: 'n',
        namespace: 'ns',
        resourceVersion: 12,
        annotations: {
          'k8s.ngrok.com/a': 1,
          'k8s.ngrok.com/b': null,
          'k8s.ngrok.com/c': 'ok',
          ['__proto__']: 'x',
        },
      },
      spec: { hostNetwork: 'true' },
      status: { podIPs: 'nope', podIP: '10.0.0.1' },
    } as unknown as PodLike);
    expect(weird).toMatchObject({
      annotations: { 'k8s.ngrok.com/c': 'ok' },
      resourceVersion: '',
      ips: ['10.0.0.1'],
    });
  });

  it('uses the configured annotation prefixes', () => {
    const r = derivePodRecord(base(), { annotationPrefixes: ['other.io/', 'k8s.ngrok.com/'] });
    expect(r.annotations).toEqual({ 'k8s.ngrok.com/environment': 'production', 'other.io/x': 'y' });
  });

  describe('annotation budget (1024 bytes of keys and values, UTF-8)', () => {
    const P = 'k8s.ngrok.com/';
    const withAnnotations = (annotations: Record<string, string>) =>
      derivePodRecord(base({ metadata: { uid: 'u', name: 'n', namespace: 'ns', annotations } }));

    it('exactly 1024 bytes fits', () => {
      const key = `${P}k`; // 15 bytes
      const r = withAnnotations({ [key]: 'v'.repeat(1024 - 15) });
      expect(r.errorCode).toBe('');
      expect(Object.keys(r.annotations)).toEqual([key]);
    });

    it('counts UTF-8 bytes, not characters', () => {
      const key = `${P}k`;
      // 'é' is 2 bytes: 15 + 505 * 2 = 1025 bytes in 520 characters.
      const r = withAnnotations({ [key]: 'é'.repeat(505) });
      expect(r.errorCode).toBe('ERR_NGROK_28000');
      expect(r.errorMessage).toBe(
        'Pod identity metadata too large: annotations exceed the 1024-byte limit (1025 bytes)',
      );
      expect(r.annotations).toEqual({});
    });

    it('keeps a deterministic subset: byte order, greedy', () => {
      const big = 'x'.repeat(600);
      const annotations = {
        [`${P}zeta`]: 'small',
        [`${P}beta`]: big,
        [`${P}alpha`]: big,
        [`${P}Émile`]: 'u', // non-ASCII key sorts after ASCII in byte order
      };
      const r = withAnnotations(annotations);
      expect(r.errorCode).toBe('ERR_NGROK_28000');
      expect(Object.keys(r.annotations)).toEqual([`${P}alpha`, `${P}zeta`, `${P}Émile`]);
      // Same input in another insertion order, same subset.
      const reversed = Object.fromEntries(Object.entries(annotations).reverse());
      expect(withAnnotations(reversed).annotations).toEqual(r.annotations);
      const used = Object.entries(r.annotations).reduce(
        (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
        0,
      );
      expect(used).toBeLessThanOrEqual(1024);
    });
  });

  describe('identity field limits', () => {
    it.each([
      [
        'id',
        { uid: 'u'.repeat(37), name: 'n', namespace: 'ns' },
        /id exceeds the 36-byte limit \(37 bytes\)/,
      ],
      ['name', { uid: 'u', name: 'n'.repeat(256), namespace: 'ns' }, /name exceeds the 255-byte limit/],
      [
        'namespace',
        { uid: 'u', name: 'n', namespace: 'ñ'.repeat(32) },
        /namespace exceeds the 63-byte limit \(64/,
      ],
    ])('%s over its limit: ERR_NGROK_28000 and no IPs', (_, metadata, message) => {
      const r = derivePodRecord(base({ metadata }));
      expect(r.errorCode).toBe('ERR_NGROK_28000');
      expect(r.errorMessage).toMatch(message);
      expect(r.ips).toEqual([]);
      expect(Buffer.byteLength(r.name)).toBeLessThanOrEqual(255);
      expect(Buffer.byteLength(r.namespace)).toBeLessThanOrEqual(63);
    });

    it('at the limits is fine', () => {
      const r = derivePodRecord(
        base({ metadata: { uid: 'u'.repeat(36), name: 'n'.repeat(255), namespace: 'n'.repeat(63) } }),
      );
      expect(r.errorCode).toBe('');
      expect(r.ips).toHaveLength(2);
    });
  });
});

describe('truncateUtf8', () => {
  it.each([
    ['abc', 2, 'ab'],
    ['aé', 2, 'a'],
    ['😀x', 3, ''],
    ['😀x', 5, '😀x'],
  ])('%j to %d bytes', (text, max, expected) => {
    expect(truncateUtf8(text, max)).toBe(expected);
  });
});
