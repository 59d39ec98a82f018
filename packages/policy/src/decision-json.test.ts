// The JSON form of a decision: its exact bytes (key order included), and values JSON has no
// word for (CEL's BigInt integers, `__proto__` keys) written as data.
import { describe, expect, it } from 'vitest';
import { type Decision, type DecisionLookup, decisionJson, loadPolicyFiles, type PodVars } from './index.js';
import { input, missing, pod } from './test-support.js';

const FOUND: DecisionLookup = { ok: true };
const NOT_FOUND: DecisionLookup = {
  ok: false,
  reason: 'not_found',
  message: 'no pod owns 10.0.0.5 in cluster east',
};

/** A bare policy, evaluated for one pod; its JSON form as `podgate eval` would print it. */
function evaluated(rules: string, who: PodVars = pod(), lookup: DecisionLookup = FOUND): string {
  const text = `on_tcp_connect:\n${rules.replace(/^/gm, '  ')}\n`;
  const result = loadPolicyFiles([{ path: 'p.yaml', text }]);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  const decision = result.config.policies[0]!.evaluateTcpConnect(input(who));
  return JSON.stringify(
    decisionJson({ endpoint: 'p.yaml#1', clientIp: '10.0.0.5', decision, pod: who, lookup }),
  );
}

const IDENTITY =
  '"identity":{"id":"0b6f3e2a-1111-4222-8333-944455556666","metadata":{"name":"worker-a","namespace":"payments","annotations":{"k8s.ngrok.com/environment":"production"},"error_code":"","error_message":""},"cluster":"east"}';

describe('decisionJson', () => {
  it('writes a forward, its rule, logs and vars, in a fixed key order', () => {
    const json = evaluated(`- name: tag
  actions:
    - type: set-vars
      config: {vars: [{tier: "gold-\${conn.k8s.pod.metadata.namespace}"}, {limit: 3}, {on: true}]}
    - type: log
      config: {metadata: {who: "\${conn.k8s.pod.metadata.name}", port: 5432}}
- expressions: ['vars.limit == 3']
  actions:
    - type: forward-internal
      config: {url: "tcp://app.ns.internal:5432"}`);
    expect(json).toBe(
      `{"endpoint":"p.yaml#1","client_ip":"10.0.0.5","allowed":true,"action":"forward-internal","target":"tcp://app.ns.internal:5432","rule":{"number":2},"expression":null,"error":null,"logs":[{"who":"worker-a","port":5432}],"vars":{"tier":"gold-payments","limit":3,"on":true},${IDENTITY},"lookup":{"found":true}}`,
    );
  });

  it('writes a run-time error with the rule, its name and the expression that failed', () => {
    const json = evaluated(`- name: prod-only
  expressions: ['conn.k8s.pod.metadata.annotations["k8s.ngrok.com/tier"] == "gold"']
  actions: [{type: deny}]`);
    expect(JSON.parse(json)).toMatchObject({
      allowed: false,
      action: 'error',
      target: null,
      rule: { number: 1, name: 'prod-only' },
      expression: { number: 1, source: 'conn.k8s.pod.metadata.annotations["k8s.ngrok.com/tier"] == "gold"' },
      error: { code: 'policy_eval_error', message: expect.stringContaining('k8s.ngrok.com/tier') },
    });
  });

  it('writes why identity is missing, next to the identity the policy saw', () => {
    const json = JSON.parse(evaluated('- actions: [{type: deny}]', missing, NOT_FOUND));
    expect(json.identity).toEqual({
      id: '',
      metadata: {
        name: '',
        namespace: '',
        annotations: {},
        error_code: 'ERR_NGROK_28001',
        error_message: 'Failed to retrieve pod identity metadata',
      },
      cluster: '',
    });
    expect(json.lookup).toEqual({
      found: false,
      reason: 'not_found',
      message: 'no pod owns 10.0.0.5 in cluster east',
    });
  });

  it('falling off the end: no rule, the no-match error', () => {
    const json = JSON.parse(evaluated(`- expressions: ['conn.client_port == 1']\n  actions: [{type: deny}]`));
    expect(json).toMatchObject({
      allowed: false,
      action: 'close-connection',
      rule: null,
      expression: null,
      error: { code: 'policy_no_match' },
    });
  });

  it('keeps __proto__ and constructor keys as data, and pollutes nothing', () => {
    const json = evaluated(`- actions:
    - type: log
      config: {metadata: {__proto__: p, constructor: c}}
    - type: deny`);
    expect(json).toContain('"logs":[{"__proto__":"p","constructor":"c"}]');
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  it('needs no replacer: BigInt as a number, non-finite numbers as null, nothing JSON cannot hold', () => {
    const decision: Decision = {
      allowed: false,
      action: 'deny',
      rule: { index: 2 },
      logs: [{ n: 7n, inf: Number.POSITIVE_INFINITY, gone: undefined, list: [1n, undefined] }],
      vars: { big: 12345678901n, nested: { x: 1n } },
    };
    const out = decisionJson({ endpoint: 'e', clientIp: '::1', decision, pod: pod(), lookup: FOUND });
    expect(JSON.stringify(out)).toContain(
      '"logs":[{"n":7,"inf":null,"list":[1,null]}],"vars":{"big":12345678901,"nested":{"x":1}}',
    );
    // The decision itself is left as it was.
    expect(decision.vars.big).toBe(12345678901n);
  });

  it('copies only the fields it names from the rule, expression and error', () => {
    const decision = {
      allowed: false,
      action: 'error',
      rule: { index: 0, extra: 'x' },
      expression: { index: 1, source: 'true', extra: 'y' },
      error: { code: 'policy_eval_error', message: 'm', extra: 'z' },
      logs: [],
      vars: {},
    } as Decision;
    const out = decisionJson({ endpoint: 'e', clientIp: '::1', decision, pod: pod(), lookup: FOUND });
    expect(JSON.stringify(out)).not.toContain('extra');
  });
});
