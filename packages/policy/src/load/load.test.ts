// Loader errors: each names the file, line and column of the problem and says what is wrong.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadPolicyFiles } from '../index.js';

const cloud = (policy: string, url = 'http://svc.ns') => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: ep
spec:
  url: ${url}
  bindings:
    - kubernetes
  trafficPolicy:
    policy:
${policy.replace(/^/gm, '      ')}`;

const rule = (expressions: string[], actions = '- type: deny') =>
  `on_tcp_connect:
  - expressions:
${expressions.map((e) => `      - ${e}`).join('\n')}
    actions:
${actions.replace(/^/gm, '      ')}
  - actions:
      - type: deny`;

/** 1-based line and column of the first occurrence of `marker` (plus `shift` characters). */
function place(text: string, marker: string, shift = 0) {
  const offset = text.indexOf(marker);
  if (offset < 0) throw new Error(`marker ${marker} not in text`);
  const before = text.slice(0, offset + shift);
  const line = before.split('\n').length;
  return { line, column: offset + shift - before.lastIndexOf('\n') };
}

const cases: Array<{ name: string; text: string; at: string; shift?: number; message: RegExp }> = [
  {
    name: 'bad YAML (duplicate key)',
    text: 'on_tcp_connect:\n  - actions:\n      - type: deny\non_tcp_connect: []\n',
    at: 'on_tcp_connect: []',
    message: /YAML: Map keys must be unique/,
  },
  {
    name: 'bad YAML (unclosed flow)',
    text: 'on_tcp_connect:\n  - actions: [\n',
    at: '[\n',
    shift: 2,
    message: /YAML/,
  },
  {
    name: 'unknown kind',
    text: 'apiVersion: ngrok.k8s.ngrok.com/v1alpha1\nkind: HTTPRoute\nmetadata:\n  name: x\nspec: {}\n',
    at: 'HTTPRoute',
    message: /unknown kind 'HTTPRoute'/,
  },
  {
    name: 'unknown action',
    text: cloud(rule(['conn.client_ip != ""'], '- type: teleport')),
    at: 'teleport',
    message: /on_tcp_connect rule 1, action 1 \(teleport\): unknown action type 'teleport'/,
  },
  {
    name: 'bad CIDR',
    text: cloud(
      rule(['true'], '- type: restrict-ips\n  config:\n    allow:\n      - 10.0.0.0/8\n      - 10.0.0.0/40'),
    ),
    at: '10.0.0.0/40',
    message: /action 1 \(restrict-ips\): config.allow\[1\]: bad CIDR '10.0.0.0\/40'/,
  },
  {
    name: 'bad URL',
    text: cloud(rule(['true']), 'tcp://svc.ns'),
    at: 'tcp://svc.ns',
    message: /spec.url: .*tcp URLs need a port/,
  },
  {
    name: 'Kubernetes URL with three labels',
    text: cloud(rule(['true']), 'http://a.b.c'),
    at: 'http://a.b.c',
    message: /must be http:\/\/NAME.NAMESPACE/,
  },
  {
    name: 'CEL syntax error',
    text: cloud(rule(['conn.client_ip == "a" &&'])),
    at: 'conn.client_ip == "a" &&',
    shift: 24,
    message: /rule 1, expression 1: syntax error/,
  },
  {
    name: 'CEL type error (typo)',
    text: cloud(rule(['conn.k8s.pod.metadata.namspace != "x"'])),
    at: 'namspace',
    message: /on_tcp_connect rule 1, expression 1: unknown field 'namspace' on conn.k8s.pod.metadata/,
  },
  {
    name: 'unknown variable',
    text: cloud(rule(['request.ip == "x"'])),
    at: 'request.ip',
    message: /unknown variable 'request'/,
  },
  {
    name: 'non-boolean expression',
    text: cloud(rule(['conn.k8s.pod.metadata.name'])),
    at: 'conn.k8s.pod.metadata.name',
    message: /expression must be boolean, but it is string/,
  },
  {
    name: 'oversized expression',
    text: cloud(rule([`conn.client_ip == "${'a'.repeat(5000)}"`])),
    at: 'conn.client_ip == "aaa',
    message: /5020 characters long; the limit is 4096/,
  },
  {
    name: 'long operator chain rejected at load',
    text: cloud(rule([Array.from({ length: 100 }, () => 'true').join(' && ')])),
    at: 'true && true',
    message: /nests deeper than 64 levels/,
  },
  {
    name: 'cloud endpoint that never terminates',
    text: cloud(
      'on_tcp_connect:\n  - actions:\n      - type: log\n        config:\n          metadata:\n            a: b',
    ),
    at: 'on_tcp_connect',
    message: /never ends in a terminating action/,
  },
  {
    name: 'unknown YAML tag',
    text: cloud('on_tcp_connect:\n  - name: !secret x\n    actions:\n      - type: deny'),
    at: '!secret',
    message: /unknown YAML tag '!secret'/,
  },
  {
    name: 'unresolvable forward-internal target',
    text: cloud(
      'on_tcp_connect:\n  - actions:\n      - type: forward-internal\n        config:\n          url: http://foo.internal',
    ),
    at: 'http://foo.internal',
    message: /cannot resolve forward-internal target 'http:\/\/foo.internal'/,
  },
  {
    name: 'forward-internal to a non-internal URL',
    text: cloud(
      'on_tcp_connect:\n  - actions:\n      - type: forward-internal\n        config:\n          url: http://foo.bar',
    ),
    at: 'http://foo.bar',
    message: /must be an internal URL/,
  },
  {
    name: 'targetRef to a missing NgrokTrafficPolicy',
    text: `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: ep
  namespace: team
spec:
  url: http://svc.team
  bindings: [kubernetes]
  trafficPolicy:
    targetRef:
      name: nowhere
`,
    at: 'nowhere',
    message: /no NgrokTrafficPolicy named 'nowhere' in namespace 'team'/,
  },
  {
    name: 'unknown config key',
    text: cloud(
      rule(['true'], '- type: forward-internal\n  config:\n    url: http://a.b.internal\n    retries: 3'),
    ),
    at: 'retries',
    message: /config.retries: unknown field 'retries'/,
  },
  {
    name: 'unknown field in spec',
    text: cloud(rule(['true'])).replace('  bindings:', '  bindingz: []\n  bindings:'),
    at: 'bindingz',
    message: /spec.bindingz: unknown field 'bindingz'/,
  },
  {
    name: 'legacy inbound phase',
    text: 'inbound:\n  - actions:\n      - type: deny\non_tcp_connect:\n  - actions:\n      - type: deny\n',
    at: 'inbound',
    message: /legacy phase 'inbound' is not supported; use 'on_http_request'/,
  },
  {
    name: 'terminate-tls',
    text: cloud(rule(['true'], '- type: terminate-tls')),
    at: 'terminate-tls',
    message: /not supported by Podgate's TCP proxy/,
  },
  {
    name: 'ip_policies',
    text: cloud(rule(['true'], '- type: restrict-ips\n  config:\n    ip_policies: [ipp_123]')),
    at: 'ip_policies',
    message: /not supported self-hosted/,
  },
  {
    name: 'bad regex literal',
    text: cloud(rule(['conn.k8s.pod.metadata.name.matches("(a")'])),
    at: '"(a"',
    message: /invalid regular expression/,
  },
  {
    name: 'HTTP action in on_tcp_connect',
    text: cloud(rule(['true'], '- type: add-headers')),
    at: 'add-headers',
    message: /action 'add-headers' is not valid in on_tcp_connect/,
  },
];

describe('loader errors', () => {
  it.each(cases)('$name', ({ text, at, shift, message }) => {
    const result = loadPolicyFiles([{ path: 'policy.yaml', text }]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const want = place(text, at, shift);
    expect(result.errors.map(formatDiagnostic)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^policy\\.yaml:${want.line}:${want.column}: error: .*${message.source}`),
        ),
      ]),
    );
  });

  it('refuses a whole file for one error, and names both files', () => {
    const good = cloud(rule(['true']), 'http://one.ns');
    const bad = cloud(rule(['conn.nope']), 'http://two.ns');
    const result = loadPolicyFiles([
      { path: 'good.yaml', text: good },
      { path: 'bad.yaml', text: bad },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.file)).toEqual(['bad.yaml']);
  });

  it('reports duplicate endpoint URLs', () => {
    const result = loadPolicyFiles([
      { path: 'a.yaml', text: cloud(rule(['true'])) },
      { path: 'b.yaml', text: cloud(rule(['true'])).replace('http://svc.ns', 'http://svc.ns:80') },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors[0]!.message).toMatch(/also used by CloudEndpoint default\/ep \(a.yaml\)/);
  });

  it('validates HTTP phases without evaluating them', () => {
    const ok = loadPolicyFiles([
      {
        path: 'h.yaml',
        text: cloud(
          'on_http_request:\n  - expressions: [\'req.url.path == "/x"\']\n    actions:\n      - type: custom-response\n        config: {status_code: 200}\n' +
            rule(['true']),
        ),
      },
    ]);
    expect(ok.ok ? [] : ok.errors).toEqual([]);
    const bad = loadPolicyFiles([
      {
        path: 'h.yaml',
        text: cloud(`on_http_request:\n  - actions:\n      - type: teleport\n${rule(['true'])}`),
      },
    ]);
    expect(bad.ok).toBe(false);
  });
});
