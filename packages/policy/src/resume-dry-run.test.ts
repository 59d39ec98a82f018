// Two things the proxy needs of the engine: going on after a forward it could not carry out
// (on_error: continue), and the dry-run annotation with the target a dry run forwards to.
import { describe, expect, it } from 'vitest';
import { loadPolicyFiles } from './index.js';
import { input, pod } from './test-support.js';

function load(text: string) {
  return loadPolicyFiles([{ path: 'e.yaml', text }]);
}

const cloud = (rules: string, annotations = '') => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: app
  namespace: ns${annotations}
spec:
  url: tcp://app.ns:5432
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
${rules.replace(/^/gm, '        ')}
`;

const CONTINUE_THEN_FALLBACK = `- actions:
    - type: forward-internal
      config:
        url: tcp://primary.ns.internal:5432
        on_error: continue
- expressions:
    - actions.ngrok.forward_internal.error.code == "connect_refused"
  actions:
    - type: log
      config:
        metadata:
          failed: \${actions.ngrok.forward_internal.url}
    - type: forward-internal
      config:
        url: tcp://standby.ns.internal:5432
- actions:
    - type: deny`;

describe('forward-internal on_error: continue, resumed after a failed forward', () => {
  it('goes on with the later rules, actions.ngrok.forward_internal set', () => {
    const result = load(cloud(CONTINUE_THEN_FALLBACK));
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
    const endpoint = result.config.endpoints[0]!;
    const first = endpoint.evaluateTcpConnect(input(pod()));
    expect(first).toMatchObject({ allowed: true, target: { host: 'primary.ns.svc.cluster.local' } });
    expect(first.resume).toBeTypeOf('function');
    const second = first.resume!({ code: 'connect_refused', message: 'ECONNREFUSED' });
    expect(second).toMatchObject({
      allowed: true,
      target: { host: 'standby.ns.svc.cluster.local' },
      rule: { index: 1 },
      logs: [{ failed: 'tcp://primary.ns.internal:5432' }],
    });
    // The standby forward halts on error: nothing more to resume.
    expect(second.resume).toBeUndefined();
    // Another failure code skips the fallback rule and reaches the deny.
    const other = endpoint.evaluateTcpConnect(input(pod())).resume!({
      code: 'connect_timeout',
      message: 't',
    });
    expect(other).toMatchObject({ allowed: false, action: 'deny', rule: { index: 2 } });
  });

  it('a forward with on_error: halt offers no resume', () => {
    const result = load(
      cloud('- actions:\n    - type: forward-internal\n      config: {url: tcp://a.ns.internal:1}'),
    );
    if (!result.ok) throw new Error('load');
    expect(result.config.endpoints[0]!.evaluateTcpConnect(input(pod())).resume).toBeUndefined();
  });

  it('does not count as terminating: a CloudEndpoint ending with one is refused at load', () => {
    const result = load(
      cloud(
        '- actions:\n    - type: forward-internal\n      config: {url: tcp://a.ns.internal:1, on_error: continue}',
      ),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.message).toMatch(/never ends in a terminating action/);
  });
});

describe('podgate.io/dry-run', () => {
  const annotated = (value: string) => `\n  annotations:\n    podgate.io/dry-run: "${value}"`;
  const DENY_THEN_FORWARD =
    '- expressions: ["conn.k8s.pod.metadata.namespace != \'payments\'"]\n  actions: [{type: deny}]\n- actions:\n    - type: forward-internal\n      config: {url: tcp://ledger.ns.internal:5432}';

  it('marks the endpoint and names the first fixed forward-internal target', () => {
    const result = load(cloud(DENY_THEN_FORWARD, annotated('true')));
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
    const endpoint = result.config.endpoints[0]!;
    expect(endpoint.dryRun).toBe(true);
    expect(endpoint.dryRunTarget).toMatchObject({ host: 'ledger.ns.svc.cluster.local', port: 5432 });
    // The verdict itself is unchanged: the caller lets it through.
    expect(endpoint.evaluateTcpConnect(input(pod({ namespace: 'other' })))).toMatchObject({
      allowed: false,
      action: 'deny',
    });
  });

  it('is off without the annotation, or with "false"', () => {
    for (const text of [cloud(DENY_THEN_FORWARD), cloud(DENY_THEN_FORWARD, annotated('false'))]) {
      const result = load(text);
      if (!result.ok) throw new Error('load');
      expect(result.config.endpoints[0]!.dryRun).toBe(false);
      expect(result.config.endpoints[0]!.dryRunTarget).toBeUndefined();
    }
  });

  it('refuses a value other than "true" or "false", at its line', () => {
    const result = load(cloud(DENY_THEN_FORWARD, annotated('yes')));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]).toMatchObject({ line: 7 });
      expect(result.errors[0]!.message).toMatch(/podgate.io\/dry-run: must be "true" or "false", got "yes"/);
    }
  });

  it('refuses a dry-run endpoint with nowhere fixed to send what it would refuse', () => {
    const dynamic = `- actions:\n    - type: forward-internal\n      config:\n        url: tcp://\${conn.k8s.pod.metadata.name}.ns.internal:1`;
    const result = load(cloud(dynamic, annotated('true')));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.message).toMatch(/needs a fixed place to send them/);
  });
});
