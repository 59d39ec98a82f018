// on_tcp_connect semantics beyond the seed: actions, variables, functions, run-time failures.
import { describe, expect, it } from 'vitest';
import { type Decision, loadPolicyFiles, type PodVars } from './index.js';
import { input, pod } from './test-support.js';
import type { ConnInfo, LoadOptions } from './types.js';

/** A bare policy; `rules` is the YAML list under on_tcp_connect. */
function policy(rules: string, options?: LoadOptions) {
  const text = `on_tcp_connect:\n${rules.replace(/^/gm, '  ')}\n`;
  const result = loadPolicyFiles([{ path: 'p.yaml', text }], options);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  const evaluate = result.config.policies[0]!.evaluateTcpConnect;
  return (p: PodVars = pod(), c: Partial<ConnInfo> = {}): Decision => evaluate(input(p, c));
}

const FORWARD = `- actions:
    - type: forward-internal
      config:
        url: http://app.ns.internal`;

describe('restrict-ips', () => {
  const run = policy(`- actions:
    - type: restrict-ips
      config:
        allow: [10.0.0.0/8, "2001:db8::/32"]
        deny: [10.9.0.0/16]
${FORWARD}`);
  it.each([
    ['10.0.0.5', true],
    ['::ffff:10.0.0.5', true],
    ['2001:db8::7', true],
    ['10.9.1.1', false],
    ['192.168.1.1', false],
    ['not-an-ip', false],
  ])('%s allowed=%s', (clientIp, allowed) => {
    const d = run(pod(), { clientIp });
    expect(d.allowed).toBe(allowed);
    expect(d.action).toBe(allowed ? 'forward-internal' : 'restrict-ips');
    if (!allowed) expect(d.rule).toEqual({ index: 0 });
  });

  it('enforce: false only logs', () => {
    const dry = policy(`- actions:
    - type: restrict-ips
      config: {enforce: false, deny: [0.0.0.0/0]}
${FORWARD}`);
    const d = dry(pod(), { clientIp: '10.1.1.1' });
    expect(d.action).toBe('forward-internal');
    expect(d.logs).toEqual([{ action: 'restrict-ips', enforce: false, refused: '10.1.1.1' }]);
  });
});

describe('log, set-vars and variables', () => {
  it('log interpolates CEL into its metadata, in order', () => {
    const run = policy(`- actions:
    - type: log
      config:
        metadata:
          who: "\${conn.k8s.pod.metadata.namespace}/\${conn.k8s.pod.metadata.name}"
          port: "\${conn.client_port}"
          cluster: "\${conn.k8s.cluster}"
          fixed: plain
    - type: log
      config:
        metadata: {second: "\${endpoint.name}"}
${FORWARD}`);
    expect(run().logs).toEqual([
      { who: 'payments/worker-a', port: '40000', cluster: 'east', fixed: 'plain' },
      { second: 'p.yaml#1' },
    ]);
  });

  it('set-vars is read by a later rule and reported in the decision', () => {
    const run = policy(`- actions:
    - type: set-vars
      config:
        vars:
          - tier: "gold-\${conn.k8s.pod.metadata.namespace}"
          - limit: 3
- expressions: ['vars.tier == "gold-payments"', 'vars.limit == 3']
  actions:
    - type: deny
${FORWARD}`);
    const d = run();
    expect(d).toMatchObject({ allowed: false, action: 'deny', rule: { index: 1 } });
    expect(d.vars).toEqual({ tier: 'gold-payments', limit: 3n });
    expect(run(pod({ namespace: 'other' })).action).toBe('forward-internal');
  });

  it('exposes conn.*, endpoint.* and isPrivateIp()', () => {
    const run = policy(`- expressions:
    - conn.client_ip.isPrivateIp()
    - conn.server_port == 80
    - conn.ts.start < timestamp("2030-01-01T00:00:00Z")
    - conn.k8s.pod.id.size() == 36
    - endpoint.url == ""
  actions:
    - type: deny
${FORWARD}`);
    expect(run().action).toBe('deny');
    expect(run(pod(), { clientIp: '8.8.8.8' }).action).toBe('forward-internal');
  });
});

describe('CIDR functions', () => {
  const run = policy(`- expressions: ['inCidrRange(conn.client_ip, "10.0.0.0/8")']
  actions: [{type: deny}]
- expressions: ['inCidrRanges(conn.client_ip, ["nonsense", "fd00::/8", "192.168.0.0/16"])']
  actions: [{type: close-connection}]
- expressions: ['inCidrRange(conn.client_ip, "300.0.0.0/8")']
  actions: [{type: deny}]
${FORWARD}`);
  it.each([
    ['10.1.2.3', 'deny'],
    ['::ffff:10.1.2.3', 'deny'],
    ['fd00::1', 'close-connection'],
    ['192.168.4.4', 'close-connection'],
    ['172.16.0.1', 'forward-internal'],
  ])('%s -> %s', (clientIp, action) => {
    expect(run(pod(), { clientIp }).action).toBe(action);
  });
});

describe('forward-internal', () => {
  it('resolves a target through the endpoint that owns the internal URL', () => {
    const text = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: backend}
spec:
  url: tcp://backend.internal:9000
  upstream: {url: "tcp://127.0.0.1:7000", proxyProtocolVersion: "2"}
---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: front, namespace: ns}
spec:
  url: tcp://front.ns:5432
  bindings: [kubernetes]
  trafficPolicy:
    inline:
      on_tcp_connect:
        - actions:
            - type: forward-internal
              config: {url: "tcp://backend.internal:9000", binding: internal}
`;
    const result = loadPolicyFiles([{ path: 'f.yaml', text }]);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const d = result.config.findEndpoint('tcp://front.ns:5432')!.evaluateTcpConnect(input(pod()));
    expect(d).toMatchObject({ allowed: true, action: 'forward-internal' });
    expect(d.target).toEqual({
      url: 'tcp://backend.internal:9000',
      scheme: 'tcp',
      host: '127.0.0.1',
      port: 7000,
      proxyProtocolVersion: 2,
    });
  });

  it('falls back to the Service DNS name, with the configured cluster domain', () => {
    const run = policy(FORWARD.replace('http://app.ns.internal', 'tcp://app.ns.internal:6379'), {
      clusterDomain: 'corp.local',
    });
    expect(run().target).toEqual({
      url: 'tcp://app.ns.internal:6379',
      scheme: 'tcp',
      host: 'app.ns.svc.corp.local',
      port: 6379,
    });
  });

  const dynamic = (onError: string) =>
    policy(`- actions:
    - type: forward-internal
      config:
        url: "http://\${conn.k8s.pod.metadata.annotations['k8s.ngrok.com/target']}.internal"
        on_error: ${onError}
- actions:
    - type: close-connection`);

  it('interpolated URLs resolve per connection', () => {
    const d = dynamic('halt')(pod({ annotations: { 'k8s.ngrok.com/target': 'api.team' } }));
    expect(d.target).toMatchObject({
      url: 'http://api.team.internal',
      host: 'api.team.svc.cluster.local',
      port: 80,
    });
  });

  it('on_error: continue goes on to the next rule when the target cannot be resolved', () => {
    const d = dynamic('continue')(pod({ annotations: { 'k8s.ngrok.com/target': 'nolabels' } }));
    expect(d).toMatchObject({ allowed: false, action: 'close-connection', rule: { index: 1 } });
  });

  it('on_error: halt fails closed when the target cannot be resolved', () => {
    const d = dynamic('halt')(pod({ annotations: { 'k8s.ngrok.com/target': 'nolabels' } }));
    expect(d).toMatchObject({
      allowed: false,
      action: 'error',
      rule: { index: 0 },
      error: { code: 'forward_internal_error' },
    });
  });
});

describe('run-time failures fail closed', () => {
  it('matches uses RE2: a catastrophic pattern on attacker input finishes fast', () => {
    const run =
      policy(`- expressions: ['conn.k8s.pod.metadata.annotations["k8s.ngrok.com/x"].matches("(a+)+$")']
  actions: [{type: deny}]
${FORWARD}`);
    const evil = pod({ annotations: { 'k8s.ngrok.com/x': `${'a'.repeat(40)}b` } });
    const started = performance.now();
    const d = run(evil);
    const elapsed = performance.now() - started;
    expect(d.action).toBe('forward-internal');
    // JavaScript's RegExp takes hours on this input; RE2 is linear.
    expect(elapsed).toBeLessThan(250);
    expect(run(pod({ annotations: { 'k8s.ngrok.com/x': 'aaaa' } })).action).toBe('deny');
  });

  it('a regex from connection data that does not compile is an error, not a match', () => {
    const run =
      policy(`- expressions: ['"abc".matches(conn.k8s.pod.metadata.annotations["k8s.ngrok.com/re"])']
  actions: [{type: deny}]
${FORWARD}`);
    const d = run(pod({ annotations: { 'k8s.ngrok.com/re': '(' } }));
    expect(d).toMatchObject({ allowed: false, action: 'error', error: { code: 'policy_eval_error' } });
    expect(d.error?.message).toMatch(/invalid regular expression/);
  });

  it('a long operator chain that overflows the stack at evaluation fails closed', () => {
    const chain = Array.from({ length: 2000 }, () => 'conn.client_port == 1').join(' || ');
    const run = policy(`- expressions: ['${chain}']\n  actions: [{type: deny}]\n${FORWARD}`, {
      limits: { maxAstDepth: 1e6, maxAstNodes: 1e6, maxExpressionLength: 1e6 },
    });
    const d = run();
    expect(d).toMatchObject({
      allowed: false,
      action: 'error',
      rule: { index: 0 },
      expression: { index: 0 },
    });
    expect(d.error?.message).toMatch(/too deeply nested/);
  });

  it('an expression of type dyn that is not boolean at run time is an error', () => {
    const run = policy(`- actions:
    - type: set-vars
      config: {vars: [{flag: "yes"}]}
- expressions: [vars.flag]
  actions: [{type: deny}]
${FORWARD}`);
    expect(run()).toMatchObject({ action: 'error', expression: { index: 0, source: 'vars.flag' } });
  });

  it('a standalone policy that falls off the end closes the connection', () => {
    const run = policy(`- expressions: ['conn.client_port == 1']
  actions: [{type: deny}]`);
    expect(run()).toMatchObject({
      allowed: false,
      action: 'close-connection',
      error: { code: 'policy_no_match' },
    });
  });
});

describe('AgentEndpoint', () => {
  const agent = (policyYaml: string) => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: a, namespace: ns}
spec:
  url: http://a.ns
  bindings: [kubernetes]
  upstream: {url: "http://upstream.ns:8080", proxyProtocolVersion: "1"}
${policyYaml}`;

  it('forwards to spec.upstream.url when no terminating action ran', () => {
    const result = loadPolicyFiles([
      {
        path: 'a.yaml',
        text: agent(
          '  trafficPolicy:\n    inline:\n      on_tcp_connect:\n        - expressions: ["conn.client_port == 1"]\n          actions: [{type: deny}]\n',
        ),
      },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const d = result.config.endpoints[0]!.evaluateTcpConnect(input(pod()));
    expect(d).toEqual({
      allowed: true,
      action: 'upstream',
      target: {
        url: 'http://upstream.ns:8080',
        scheme: 'http',
        host: 'upstream.ns',
        port: 8080,
        proxyProtocolVersion: 1,
      },
      logs: [],
      vars: {},
    });
  });

  it('uses an NgrokTrafficPolicy by targetRef, in its own namespace', () => {
    const tp = `---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: NgrokTrafficPolicy
metadata: {name: shared, namespace: ns}
spec:
  policy:
    on_tcp_connect:
      - expressions: ['conn.k8s.pod.metadata.namespace != endpoint.namespace']
        actions: [{type: deny}]
`;
    const result = loadPolicyFiles([
      { path: 'a.yaml', text: agent('  trafficPolicy:\n    targetRef: {name: shared}\n') },
      { path: 'tp.yaml', text: tp },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.files).toEqual([
      { path: 'a.yaml', endpoints: 1, policies: 0 },
      { path: 'tp.yaml', endpoints: 0, policies: 1 },
    ]);
    const ep = result.config.endpoints[0]!;
    expect(ep.evaluateTcpConnect(input(pod())).action).toBe('deny');
    expect(ep.evaluateTcpConnect(input(pod({ namespace: 'ns' }))).action).toBe('upstream');
  });
});
