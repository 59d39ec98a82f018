// Hostile identities at evaluation time: annotation keys and values come from whoever creates
// pods. Reads stay plain data, `matches` stays linear, and every error fails closed.
import { describe, expect, it } from 'vitest';
import { loadPolicyFiles } from './index.js';
import { input, pod } from './test-support.js';
import type { Decision, PodVars } from './types.js';

/** One rule that denies when `expression` is true; otherwise close-connection. */
function decide(expression: string, overrides: Partial<PodVars>): Decision {
  const text = `on_tcp_connect:\n  - expressions:\n      - ${JSON.stringify(expression)}\n    actions:\n      - type: deny\n  - actions:\n      - type: close-connection\n`;
  const result = loadPolicyFiles([{ path: 'p.yaml', text }]);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.config.policies[0]!.evaluateTcpConnect(input(pod(overrides)));
}

const A = 'conn.k8s.pod.metadata.annotations';
// JSON.parse and object spread make `__proto__` an own property of an ordinary object.
const parsed = (json: string) => JSON.parse(json) as Record<string, string>;

const outcomes: Array<{
  name: string;
  expression: string;
  pod: Partial<PodVars>;
  action: Decision['action'];
  error?: RegExp;
}> = [
  {
    name: 'constructor is not a key of an empty map',
    expression: `${A}["constructor"] == "y"`,
    pod: { annotations: {} },
    action: 'error',
    error: /No such key: constructor/,
  },
  {
    name: '"toString" in an empty map',
    expression: `"toString" in ${A}`,
    pod: { annotations: {} },
    action: 'close-connection',
  },
  {
    name: 'has() on an inherited name',
    expression: `has(${A}.constructor)`,
    pod: { annotations: {} },
    action: 'close-connection',
  },
  {
    name: 'own constructor key (JSON.parse)',
    expression: `${A}["constructor"] == "y"`,
    pod: { annotations: parsed('{"constructor":"y"}') },
    action: 'deny',
  },
  {
    name: 'own __proto__ key (JSON.parse)',
    expression: `${A}["__proto__"] == "x"`,
    pod: { annotations: parsed('{"__proto__":"x","constructor":"y"}') },
    action: 'deny',
  },
  {
    name: 'size() with prototype keys',
    expression: `${A}.size() == 2`,
    pod: { annotations: parsed('{"__proto__":"x","constructor":"y"}') },
    action: 'deny',
  },
  {
    name: 'exists() sees __proto__',
    expression: `${A}.exists(k, k == "__proto__")`,
    pod: { annotations: parsed('{"__proto__":"x"}') },
    action: 'deny',
  },
  {
    name: 'other keys still read beside constructor',
    expression: `${A}["k8s.ngrok.com/env"] == "prod"`,
    pod: { annotations: parsed('{"constructor":"y","k8s.ngrok.com/env":"prod"}') },
    action: 'deny',
  },
  {
    name: 'a missing key beside constructor still fails closed',
    expression: `${A}["nope"] == ""`,
    pod: { annotations: parsed('{"constructor":"y"}') },
    action: 'error',
    error: /No such key: nope/,
  },
  {
    name: 'NUL in a key',
    expression: `${A}["a\\u0000b"] == "x"`,
    pod: { annotations: { 'a\u0000b': 'x' } },
    action: 'deny',
  },
  {
    name: 'quotes and spaces in a key',
    expression: `${A}["k8s.ngrok.com/a b\\"c"] == "x"`,
    pod: { annotations: { 'k8s.ngrok.com/a b"c': 'x' } },
    action: 'deny',
  },
  {
    name: 'single-quoted key',
    expression: `${A}['k8s.ngrok.com/é'] == "x"`,
    pod: { annotations: { 'k8s.ngrok.com/é': 'x' } },
    action: 'deny',
  },
  {
    name: 'a non-string value fails closed',
    expression: `${A}["a"] == "b"`,
    pod: { annotations: { a: 5 as unknown as string } },
    action: 'error',
    error: /not of type 'string'/,
  },
  {
    name: 'annotations null fails closed',
    expression: `${A}["a"] == "b"`,
    pod: { annotations: null as unknown as Record<string, string> },
    action: 'error',
  },
  {
    name: 'lone surrogates in a name',
    expression: 'conn.k8s.pod.metadata.name.size() == 3',
    pod: { name: '\ud800\udfff\udc00' },
    action: 'close-connection',
  },
  {
    name: 'invalid pattern from data',
    expression: `conn.k8s.pod.metadata.name.matches(${A}["re"])`,
    pod: { annotations: { re: '(a' } },
    action: 'error',
    error: /invalid regular expression "\(a"/,
  },
  {
    name: 'backreference from data',
    expression: `conn.k8s.pod.metadata.name.matches(${A}["re"])`,
    pod: { annotations: { re: '(a)\\1' } },
    action: 'error',
    error: /invalid escape/,
  },
  {
    name: 'exploding repeat from data',
    expression: `conn.k8s.pod.metadata.name.matches(${A}["re"])`,
    pod: { annotations: { re: '((a{100}){100}){100}' } },
    action: 'error',
    error: /invalid repeat count/,
  },
];

describe('hostile identities at evaluation', () => {
  it.each(outcomes)('$name', ({ expression, pod: p, action, error }) => {
    const decision = decide(expression, p);
    expect(decision.action).toBe(action);
    expect(decision.allowed).toBe(false);
    if (action === 'error') {
      expect(decision.error?.code).toBe('policy_eval_error');
      expect(decision.expression?.source).toBe(expression);
      if (error) expect(decision.error?.message).toMatch(error);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// Each would take seconds to years with a backtracking engine; RE2 is linear in the input.
const slow: Array<{ name: string; expression: string; pod: Partial<PodVars> }> = [
  {
    name: 'nested quantifier pattern from data on a 100 KB name',
    expression: `conn.k8s.pod.metadata.name.matches(${A}["re"])`,
    pod: { annotations: { re: '(a+)+$' }, name: `${'a'.repeat(100_000)}b` },
  },
  {
    name: '(x+x+)+y from data on 1 MB',
    expression: `conn.k8s.pod.metadata.name.matches(${A}["re"])`,
    pod: { annotations: { re: '(x+x+)+y' }, name: 'x'.repeat(1_000_000) },
  },
  {
    name: 'alternation literal on a 1 MB annotation value',
    expression: `${A}["v"].matches("^(a|aa)+$")`,
    pod: { annotations: { v: `${'a'.repeat(1_000_000)}b` } },
  },
  {
    name: '(.*a){20} on 100 KB',
    expression: `${A}["v"].matches("(.*a){20}b")`,
    pod: { annotations: { v: 'a'.repeat(100_000) } },
  },
];

describe('matches stays linear on hostile input', () => {
  it.each(slow)('$name', ({ expression, pod: p }) => {
    const started = performance.now();
    const decision = decide(expression, p);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(decision.allowed).toBe(false);
    expect(['deny', 'close-connection']).toContain(decision.action);
  });
});
