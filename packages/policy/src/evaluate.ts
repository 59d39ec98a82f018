// on_tcp_connect evaluation: rules top to bottom, expressions ANDed, first terminating action
// wins. Any run-time error fails closed with the rule, the expression and the reason. What each
// action does is its own module's evaluate step (./actions/); this loop only acts on the step.
import type { ActionRun, Step } from './actions/define.js';
import { assertNever } from './assert-never.js';
import { Activation, CelConn } from './cel/activation.js';
import { DECISION_ERROR_CODES, type DecisionErrorCode } from './decision-codes.js';
import type { CompiledRule, EvaluationPlan, RuleRef } from './model.js';
import type { Decision, TcpConnectInput } from './types.js';

const EMPTY: Record<string, unknown> = Object.freeze(Object.create(null));

function errorMessage(error: unknown): string {
  const e = error as { summary?: string; message?: string };
  if (error instanceof RangeError) return 'expression too deeply nested to evaluate';
  return (e?.summary ?? e?.message ?? String(error)).split('\n')[0]!;
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

export function evaluateTcpConnect(plan: EvaluationPlan, input: TcpConnectInput): Decision {
  const logs: Decision['logs'] = [];
  const activation = new Activation(
    new CelConn(input.conn, input.pod),
    plan.endpoint,
    plan.policy?.setsVars ? Object.create(null) : EMPTY,
    EMPTY,
  );
  return walk(plan, { activation, conn: input.conn, logs }, 0, -1);
}

/**
 * Rules from `fromRule` on. `afterAction` >= 0 resumes inside that rule (its expressions
 * already matched) after that action: a forward with on_error: continue that failed.
 */
function walk(plan: EvaluationPlan, run: ActionRun, fromRule: number, afterAction: number): Decision {
  const { activation, logs } = run;
  const rules = plan.policy?.onTcpConnect ?? [];
  for (let r = fromRule; r < rules.length; r++) {
    const rule = rules[r]!;
    const resuming = r === fromRule && afterAction >= 0;
    if (!resuming) {
      const unmatched = matchRule(rule, activation, logs);
      if (unmatched === true) continue;
      if (unmatched !== false) return unmatched;
    }
    const actions = rule.actions;
    for (let a = resuming ? afterAction + 1 : 0; a < actions.length; a++) {
      let step: Step;
      try {
        step = actions[a]!.run(run);
      } catch (error) {
        return failed(rule.ref, DECISION_ERROR_CODES.evalError, errorMessage(error), logs, activation.vars);
      }
      switch (step.kind) {
        case 'continue':
          break;
        case 'refuse':
          return { allowed: false, action: step.action, rule: rule.ref, logs, vars: activation.vars };
        case 'forward': {
          const decision: Decision = {
            allowed: true,
            action: 'forward-internal',
            target: step.target,
            rule: rule.ref,
            logs,
            vars: activation.vars,
          };
          const onError = step.continueOnError;
          if (onError !== undefined) {
            decision.resume = (failure) => {
              activation.actions = {
                ngrok: { forward_internal: { url: onError.url, error: { ...failure } } },
              };
              return walk(plan, run, r, a);
            };
          }
          return decision;
        }
        case 'fail':
          return failed(rule.ref, step.code, step.message, logs, activation.vars);
        default:
          return assertNever(step, 'action step');
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

/** true: the rule does not match; false: it matches; a Decision: an expression failed. */
function matchRule(rule: CompiledRule, activation: Activation, logs: Decision['logs']): boolean | Decision {
  const expressions = rule.expressions;
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
    if (result === false) return true;
    if (result !== true) {
      return failed(
        rule.ref,
        DECISION_ERROR_CODES.evalError,
        'expression did not evaluate to a boolean',
        logs,
        activation.vars,
        { index: e, source: expression.source },
      );
    }
  }
  return false;
}
