// Pods are written by whoever creates them, pods files by hand: hostile shapes give a record
// within the limits or a clear IdentityError, never a crash, never a polluted prototype.
import { describe, expect, it } from 'vitest';
import { derivePodRecord } from './derive.js';
import { IdentityError } from './errors.js';
import { MAX_ANNOTATION_BYTES, MAX_POD_IPS, utf8Bytes } from './limits.js';
import { parsePodsYaml } from './pods-yaml.js';

const meta = { uid: '0b6f3e2a-1111-4222-8333-944455556666', name: 'web-1', namespace: 'shop' };
const derive = (pod: unknown, prefixes?: string[]) =>
  derivePodRecord(pod as never, prefixes ? { annotationPrefixes: prefixes } : {});

describe('derivePodRecord on hostile pods', () => {
  it.each([
    ['null', null],
    ['a string', 'pod'],
    ['metadata as an array', { metadata: [meta] }],
    ['uid as an object', { metadata: { ...meta, uid: { toString: (): string => 'x' } } }],
    ['name as a number', { metadata: { ...meta, name: 5 } }],
  ])('%s: invalid_pod naming the missing field', (_name, pod) => {
    expect(() => derive(pod)).toThrowError(IdentityError);
    expect(() => derive(pod)).toThrowError(/^pod has no metadata\./);
  });

  it.each([
    ['podIPs as an object', { podIPs: { ip: '10.0.0.1' }, podIP: '10.0.0.2' }, ['10.0.0.2']],
    [
      'zones, prefixes, leading zeros, spaces, full-width digits, garbage entries',
      {
        podIPs: [
          { ip: 'fe80::1%eth0' },
          { ip: '010.0.0.1' },
          { ip: '1.2.3.4/32' },
          { ip: ' 1.2.3.4' },
          { ip: '1.2.3.4\n' },
          { ip: '１.２.３.４' },
          { ip: 5 },
          null,
          'x',
          [1],
          { ip: '::ffff:10.0.0.9' },
          { ip: '2001:DB8::1' },
        ],
      },
      ['10.0.0.9', '2001:db8::1'],
    ],
  ])('%s', (_name, status, ips) => {
    expect(derive({ metadata: meta, status }).ips).toEqual(ips);
  });

  it(`100,000 podIPs: the first ${MAX_POD_IPS} only, in linear time`, () => {
    const podIPs = Array.from({ length: 100_000 }, (_, i) => ({
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    }));
    const started = performance.now();
    const record = derive({ metadata: meta, status: { podIPs } });
    expect(performance.now() - started).toBeLessThan(500);
    expect(record.ips).toEqual(podIPs.slice(0, MAX_POD_IPS).map((e) => e.ip));
  });

  it('__proto__ and constructor annotation keys stay ordinary entries', () => {
    const annotations = JSON.parse('{"__proto__":"x","constructor":"c","k8s.ngrok.com/__proto__":"p"}');
    const record = derive({ metadata: { ...meta, annotations } }, ['']);
    expect(Object.getPrototypeOf(record.annotations)).toBeNull();
    expect(Object.keys(record.annotations).sort()).toEqual([
      '__proto__',
      'constructor',
      'k8s.ngrok.com/__proto__',
    ]);
    expect(record.annotations.constructor).toBe('c');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(derive({ metadata: { ...meta, annotations } }).annotations).toEqual({
      'k8s.ngrok.com/__proto__': 'p',
    });
  });

  it('lone surrogates become U+FFFD, so byte counts are what UTF-8 stores', () => {
    const record = derive({
      metadata: {
        ...meta,
        name: 'web\ud800',
        annotations: { 'k8s.ngrok.com/v': 'a\udfffb', 'k8s.ngrok.com/ok': '\ud83d\ude00' },
      },
    });
    expect(record.name).toBe('web\ufffd');
    expect(record.annotations).toEqual({ 'k8s.ngrok.com/v': 'a\ufffdb', 'k8s.ngrok.com/ok': '\ud83d\ude00' });
  });

  it('NUL bytes are data', () => {
    expect(
      derive({ metadata: { ...meta, annotations: { 'k8s.ngrok.com/a\u0000': 'b\u0000' } } }).annotations,
    ).toEqual({
      'k8s.ngrok.com/a\u0000': 'b\u0000',
    });
  });

  // key 'k8s.ngrok.com/k' is 15 bytes; 'é' is 2 bytes in UTF-8.
  it.each([
    ['exactly 1024 bytes with 2-byte characters', `${'é'.repeat(504)}a`, ''],
    ['1025 bytes (one 2-byte character over)', 'é'.repeat(505), 'ERR_NGROK_28000'],
    ['1024 bytes ending in a 4-byte character', `${'a'.repeat(1005)}\ud83d\ude00`, ''],
    ['1026 bytes ending in a 4-byte character', `${'a'.repeat(1007)}\ud83d\ude00`, 'ERR_NGROK_28000'],
  ])('%s', (_name, value, errorCode) => {
    const record = derive({ metadata: { ...meta, annotations: { 'k8s.ngrok.com/k': value } } });
    expect(record.errorCode).toBe(errorCode);
    const bytes = Object.entries(record.annotations).reduce(
      (n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v),
      0,
    );
    expect(bytes).toBeLessThanOrEqual(MAX_ANNOTATION_BYTES);
    expect(bytes).toBe(errorCode === '' ? 1024 : 0);
  });

  it('a 1 MB value and 20,000 keys: a subset within the limit, quickly', () => {
    const annotations: Record<string, string> = { 'k8s.ngrok.com/big': 'x'.repeat(1_000_000) };
    for (let i = 0; i < 20_000; i++) annotations[`k8s.ngrok.com/${i}`] = 'v';
    const started = performance.now();
    const record = derive({ metadata: { ...meta, annotations } });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(record.errorCode).toBe('ERR_NGROK_28000');
    expect(record.annotations['k8s.ngrok.com/big']).toBeUndefined();
    const bytes = Object.entries(record.annotations).reduce(
      (n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v),
      0,
    );
    expect(bytes).toBeLessThanOrEqual(MAX_ANNOTATION_BYTES);
  });

  it('a name over the limit owns no IPs and says which field', () => {
    const record = derive({
      metadata: { ...meta, name: 'x'.repeat(100_000) },
      status: { podIP: '10.0.0.1' },
    });
    expect(record.ips).toEqual([]);
    expect(record.errorMessage).toMatch(/name exceeds the 255-byte limit \(100000 bytes\)/);
    expect(utf8Bytes(record.name)).toBe(255);
  });
});

const item = (i: number, extra = '') => `- apiVersion: v1
  kind: Pod
  metadata:
    name: pod-${i}
    namespace: ns
    uid: 00000000-0000-0000-0000-${String(i).padStart(12, '0')}
    annotations:
      k8s.ngrok.com/env: prod${extra}
  spec:
    containers:
${Array.from({ length: 40 }, (_, j) => `    - name: c${j}\n      image: "registry/${j}"`).join('\n')}
  status:
    phase: Running
    podIP: 10.0.${(i >> 8) & 255}.${i & 255}
`;
const list = (items: string) =>
  `apiVersion: v1\nitems:\n${items}kind: List\nmetadata:\n  resourceVersion: ""\n`;

function bomb(levels: number, indent: string): string {
  let text = `${indent}x0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n`;
  for (let i = 1; i < levels; i++)
    text += `${indent}x${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(',')}]\n`;
  return text;
}

describe('parsePodsYaml on hostile files', () => {
  it.each([
    [
      'alias bomb in a Pod document',
      `kind: Pod\nmetadata: {name: a, namespace: b, uid: c}\n${bomb(9, '')}`,
      /^p\.yaml:1:1: too many YAML aliases/,
    ],
    [
      'alias bomb inside a List item',
      list(`- kind: Pod\n  metadata: {name: a, namespace: b, uid: c}\n${bomb(9, '  ')}`),
      /^p\.yaml:3:3: too many YAML aliases/,
    ],
    [
      // The package counts an alias of an anchor that holds no alias as no expansion, and walks
      // the whole document again at each use: 8,000 of them in 40 KB took 7.9 s to read.
      'thousands of aliases of an anchor that holds none',
      `kind: List\nitems: []\nx:\n- &a []\n- &b [*a]\n${'- *b\n'.repeat(8000)}`,
      /^p\.yaml:105:3: too many YAML aliases \(more than 100\)$/,
    ],
    [
      'an alias to another item',
      list(`- kind: Pod\n  metadata: &m {name: a, namespace: b, uid: c}\n- kind: Pod\n  metadata: *m\n`),
      /^p\.yaml:5:3: YAML: Unresolved alias.*cannot refer to another item/,
    ],
    [
      'deep flow nesting',
      `kind: Pod\nmetadata: {name: a, namespace: b, uid: c}\nspec: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
      /^p\.yaml:3:\d+: nesting is too deep \(the limit is 100 levels\)$/,
    ],
    [
      'a YAML error inside the 3rd item',
      list(item(0) + item(1) + item(2).replace('phase: Running', 'phase: [Running')),
      /^p\.yaml:\d+:\d+: /,
    ],
    [
      'a non-pod item',
      list(`${item(0)}- kind: Secret\n  metadata: {name: s}\n`),
      /^p\.yaml:96:3: expected a Pod item, found kind "Secret"/,
    ],
    [
      'deep flow nesting inside a List item',
      list(
        `- kind: Pod\n  metadata: {name: a, namespace: b, uid: c}\n  spec: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
      ),
      /^p\.yaml:5:\d+: nesting is too deep \(the limit is 100 levels\)$/,
    ],
    [
      'a duplicate key inside a List item',
      list('- kind: Pod\n  metadata: {name: a, namespace: b, uid: c, uid: d}\n'),
      /^p\.yaml:4:45: duplicated mapping key$/,
    ],
    [
      'a duplicate key inside a List item with an anchor',
      list('- kind: Pod\n  metadata: &m {name: a, namespace: b, uid: c, uid: d}\n'),
      /^p\.yaml:4:48: duplicated mapping key$/,
    ],
    [
      'a duplicate key in a Pod document',
      'kind: Pod\nmetadata: {name: a, namespace: b, uid: c}\nmetadata: {name: x, namespace: y, uid: z}\n',
      /^p\.yaml:3:1: duplicated mapping key$/,
    ],
    [
      'a duplicate key in the List envelope',
      list('- kind: Pod\n  metadata: {name: a, namespace: b, uid: c}\n').replace(
        'kind: List',
        'kind: List\nkind: List',
      ),
      /^p\.yaml:6:1: duplicated mapping key$/,
    ],
    [
      'an unknown tag inside a List item',
      list('- kind: Pod\n  metadata: {name: !x a, namespace: b, uid: c}\n'),
      /^p\.yaml:4:\d+: unknown tag/,
    ],
    [
      'a merge key is an ordinary key',
      list('- kind: Pod\n  metadata: {<<: {uid: c}, name: a, namespace: b}\n'),
      /^p\.yaml:3:3: pod has no metadata\.uid$/,
    ],
    [
      'a merge key is an ordinary key in an item with an anchor',
      list('- kind: Pod\n  metadata: {<<: &u {uid: c}, name: a, namespace: b}\n'),
      /^p\.yaml:3:3: pod has no metadata\.uid$/,
    ],
    [
      'a __proto__ key sets no prototype',
      list('- kind: Pod\n  metadata: {__proto__: {uid: evil}, name: a, namespace: b}\n'),
      /^p\.yaml:3:3: pod has no metadata\.uid$/,
    ],
    ['items as scalars', list('- 1\n'), /^p\.yaml:3:3: each item must be a Pod object/],
    [
      'a pod without uid',
      list(item(0).replace(/ {4}uid: .*\n/, '')),
      /^p\.yaml:3:3: pod has no metadata\.uid/,
    ],
  ])('%s', (_name, text, message) => {
    expect(() => parsePodsYaml(text, 'p.yaml')).toThrowError(IdentityError);
    expect(() => parsePodsYaml(text, 'p.yaml')).toThrowError(message);
  });

  it("the item-at-a-time reader and the whole-file reader agree on kubectl's layout", () => {
    const aliased = `- kind: Pod
  metadata:
    labels: &l {k8s.ngrok.com/tier: web}
    annotations: *l
    name: pod-4
    namespace: ns
    uid: u4
`;
    const text = list(
      item(0) +
        item(1, ' # trailing comment') +
        item(2, '?a=1&b=2*3') +
        item(3, ' "*/5 * * * *" &x') +
        aliased,
    );
    // A leading `---` sends the same content through the general reader.
    const pods = parsePodsYaml(text, 'p.yaml');
    expect(pods).toEqual(parsePodsYaml(`---\n${text}`, 'p.yaml'));
    expect(pods.map((p) => p.metadata?.name)).toEqual(['pod-0', 'pod-1', 'pod-2', 'pod-3', 'pod-4']);
    expect(pods.map((p) => p.metadata?.annotations)).toEqual([
      { 'k8s.ngrok.com/env': 'prod' },
      { 'k8s.ngrok.com/env': 'prod' },
      { 'k8s.ngrok.com/env': 'prod?a=1&b=2*3' },
      { 'k8s.ngrok.com/env': 'prod "*/5 * * * *" &x' },
      { 'k8s.ngrok.com/tier': 'web' },
    ]);
  });

  it('__proto__ keys in a pods file stay ordinary entries, in both readers', () => {
    const text = list(`- kind: Pod
  metadata:
    __proto__: {polluted: yes}
    name: a
    namespace: b
    uid: c
    annotations:
      __proto__: x
      k8s.ngrok.com/__proto__: p
`);
    for (const input of [text, `---\n${text}`]) {
      const [pod] = parsePodsYaml(input, 'p.yaml');
      expect(Object.entries(pod?.metadata?.annotations ?? {})).toEqual([
        ['__proto__', 'x'],
        ['k8s.ngrok.com/__proto__', 'p'],
      ]);
      expect(pod?.metadata?.uid).toBe('c');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('files over 2 MiB not in kubectl layout are refused before parsing', () => {
    const text = `---\n${list(item(0, ` ${'x'.repeat(3 * 1024 * 1024)}`))}`;
    expect(() => parsePodsYaml(text, 'p.yaml')).toThrowError(/not in `kubectl get pods -o yaml` layout/);
  });

  it('a 50 MB listing in kubectl layout is read item by item', () => {
    const big = ` ${'x'.repeat(9000)}`;
    let items = '';
    for (let i = 0; i < 5000; i++) items += item(i, big);
    const text = list(items);
    expect(text.length).toBeGreaterThan(50_000_000);
    const pods = parsePodsYaml(text, 'p.yaml');
    expect(pods).toHaveLength(5000);
    expect(pods[4999]?.metadata?.name).toBe('pod-4999');
  }, 60_000);
});
