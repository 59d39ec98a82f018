// on_tcp_connect evaluation: rules top to bottom, expressions ANDed, first terminating action
// wins. Any run-time error fails closed with the rule, the expression and the reason.
import { Activation, CelConn } from './cel/activation.js';
import type { CompiledAction, EvaluationPlan, RuleRef, Value } from './model.js';
import { cidrContains, parseIp } from './net/ip.js';
import type { Decision, DecisionErrorCode, TcpConnectInput } from './types.js';

/** The closed set of `Decision.error.code` values. */
export const DECISION_ERROR_CODES = {
  /** A CEL expression, interpolation or regex failed at run time. */
  evalError: 'policy_eval_error',
  /** forward-internal could not resolve its `${}` URL (on_error: halt). */
  forwardError: 'forward_internal_error',
  /** No rule ended evaluation on an endpoint that must (CloudEndpoint, standalone policy). */
  noMatch: 'policy_no_match',
} as const satisfies Record<string, DecisionErrorCode>;

const EMPTY: Record<string, unknown> = Object.freeze(Object.create(null));

function errorMessage(error: unknown): string {
  const e = error as { summary?: string; message?: string };
  if (error instanceof RangeError) return 'expression too deeply nested to evaluate';
  return (e?.summary ?? e?.message ?? String(error)).split('\n')[0]!;
}

function render(value: Value, activation: Activation): unknown {
  return 'template' in value ? value.template.render(activation) : value.value;
}

function failed(
  rule: RuleRef,
  code: DecisionErrorCode,
  message: string,
  logs: Decision['logs'],
  vars: Record<string, unknown>,
  expression?: { index: number; source: string },
): Decision {
  const decision: Decision = { allowed: false, action: 'error', rule, error: { code, message }, logs, vars };
  if (expression) decision.expression = expression;
  return decision;
}

function ipRefused(action: Extract<CompiledAction, { kind: 'restrict-ips' }>, clientIp: string): boolean {
  const ip = parseIp(clientIp);
  if (!ip) return true;
  for (const cidr of action.deny) if (cidrContains(cidr, ip)) return true;
  if (action.allow.length === 0) return false;
  for (const cidr of action.allow) if (cidrContains(cidr, ip)) return false;
  return true;
}

export function evaluateTcpConnect(plan: EvaluationPlan, input: TcpConnectInput): Decision {
  const policy = plan.policy;
  const logs: Decision['logs'] = [];
  const activation = new Activation(
    new CelConn(input.conn, input.pod),
    plan.endpoint,
    policy?.setsVars ? Object.create(null) : EMPTY,
    EMPTY,
  );
  const rules = policy?.onTcpConnect ?? [];
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r]!;
    const expressions = rule.expressions;
    let matched = true;
    for (let e = 0; e < expressions.length; e++) {
      const expression = expressions[e]!;
      let result: unknown;
      try {
        result = expression.run(activation);
      } catch (error) {
        return failed(rule.ref, DECISION_ERROR_CODES.evalError, errorMessage(error), logs, activation.vars, {
          index: e,
          source: expression.source,
        });
      }
      if (result === false) {
        matched = false;
        break;
      }
      if (result !== true) {
        return failed(
          rule.ref,
          DECISION_ERROR_CODES.evalError,
          'expression did not evaluate to a boolean',
          logs,
          activation.vars,
          {
            index: e,
            source: expression.source,
          },
        );
      }
    }
    if (!matched) continue;
    for (const action of rule.actions) {
      try {
        switch (action.kind) {
          case 'deny':
          case 'close-connection':
            return { allowed: false, action: action.kind, rule: rule.ref, logs, vars: activation.vars };
          case 'forward-internal': {
            const resolved = action.resolve(activation);
            if (resolved.ok) {
              return {
                allowed: true,
                action: 'forward-internal',
                target: resolved.target,
                rule: rule.ref,
                logs,
                vars: activation.vars,
              };
            }
            if (action.onError === 'halt') {
              return failed(
                rule.ref,
                DECISION_ERROR_CODES.forwardError,
                resolved.message,
                logs,
                activation.vars,
              );
            }
            activation.actions = {
              ngrok: {
                forward_internal: {
                  url: action.url,
                  error: { code: DECISION_ERROR_CODES.forwardError, message: resolved.message },
                },
              },
            };
            break;
          }
          case 'restrict-ips': {
            if (!ipRefused(action, input.conn.clientIp)) break;
            if (action.enforce)
              return { allowed: false, action: 'restrict-ips', rule: rule.ref, logs, vars: activation.vars };
            logs.push({ action: 'restrict-ips', enforce: false, refused: input.conn.clientIp });
            break;
          }
          case 'log': {
            // No prototype: a metadata key such as `__proto__` is an ordinary entry.
            const entry: Record<string, unknown> = Object.create(null);
            for (const [key, value] of action.entries) entry[key] = render(value, activation);
            logs.push(entry);
            break;
          }
          case 'set-vars':
            for (const [key, value] of action.entries) activation.vars[key] = render(value, activation);
            break;
        }
      } catch (error) {
        return failed(rule.ref, DECISION_ERROR_CODES.evalError, errorMessage(error), logs, activation.vars);
      }
    }
  }
  const fallthrough = plan.fallthrough;
  if (fallthrough.kind === 'upstream') {
    return { allowed: true, action: 'upstream', target: fallthrough.target, logs, vars: activation.vars };
  }
  return {
    allowed: false,
    action: 'close-connection',
    error: {
      code: DECISION_ERROR_CODES.noMatch,
      message: 'no rule ended evaluation; the connection is closed',
    },
    logs,
    vars: activation.vars,
  };
}
