// Compiles one traffic policy object (`on_tcp_connect: [...]` etc.) into rules. Every problem
// is reported with its place; the result is undefined when there was any. Actions are compiled
// by their own modules (../actions/), found in the action table.
import type { CompiledAction } from '../actions/define.js';
import { PHASES, type Phase } from '../actions/define.js';
import type { ActionTable } from '../actions/registry.js';
import { type CompiledExpression, compileExpression } from '../cel/compile.js';
import { httpEnvironment, tcpEnvironment } from '../cel/environment.js';
import type { CompiledRule, CompiledTrafficPolicy } from '../model.js';
import type { ExpressionLimits, ForwardTarget, ParsedEndpointUrl } from '../types.js';
import { compileAction } from './action.js';
import { Place, type PlaceRoot } from './place.js';

export interface PolicyContext extends PlaceRoot {
  limits: ExpressionLimits;
  /** An internal URL to the upstream it stands for (endpoint table, then the Service fallback). */
  resolveInternal(url: ParsedEndpointUrl): ForwardTarget | undefined;
  actions: ActionTable;
}

// A Map: a phase key is data; `constructor` must not find Object's and name it as the new phase.
const LEGACY = new Map<string, Phase>([
  ['inbound', 'on_http_request'],
  ['outbound', 'on_http_response'],
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function compileTrafficPolicy(value: unknown, ctx: PolicyContext): CompiledTrafficPolicy | undefined {
  const before = ctx.sink.errors.length;
  const root = new Place(ctx, [], '');
  if (value === null || value === undefined) value = {};
  if (!isObject(value)) {
    root.error(
      'a traffic policy must be a mapping of phases (on_tcp_connect, on_http_request, on_http_response)',
    );
    return undefined;
  }
  const out: CompiledTrafficPolicy = { onTcpConnect: [], canTerminate: false, setsVars: false };
  for (const [key, rules] of Object.entries(value)) {
    const place = root.child([key], key);
    const legacy = LEGACY.get(key);
    if (legacy) {
      place.error(`legacy phase '${key}' is not supported; use '${legacy}'`, { key: true });
      continue;
    }
    if (!(PHASES as readonly string[]).includes(key)) {
      place.error(`unknown phase '${key}' (use ${PHASES.join(', ')})`, { key: true });
      continue;
    }
    if (rules === null) continue;
    if (!Array.isArray(rules)) {
      place.error('must be a list of rules');
      continue;
    }
    const phase = key as Phase;
    rules.forEach((rule, i) => {
      const compiled = compileRule(rule, phase, place.child([i], `${phase} rule ${i + 1}`), i, ctx);
      if (compiled && phase === 'on_tcp_connect') out.onTcpConnect.push(compiled);
    });
  }
  for (const rule of out.onTcpConnect) {
    for (const action of rule.actions) {
      if (action.writesVars) out.setsVars = true;
      if (action.terminates) out.canTerminate = true;
    }
  }
  return ctx.sink.errors.length === before ? out : undefined;
}

function compileRule(
  rule: unknown,
  phase: Phase,
  place: Place,
  index: number,
  ctx: PolicyContext,
): CompiledRule | undefined {
  if (!isObject(rule)) {
    place.error('a rule must be a mapping with expressions and actions');
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(rule)) {
    if (key !== 'name' && key !== 'expressions' && key !== 'actions') {
      place
        .child([key])
        .error(`unknown field '${key}' (a rule has name, expressions, actions)`, { key: true });
      ok = false;
    }
  }
  const env = phase === 'on_tcp_connect' ? tcpEnvironment : httpEnvironment;
  const name = rule.name;
  if (name !== undefined && typeof name !== 'string') {
    place.child(['name']).error('name must be a string');
    ok = false;
  }
  const expressions: CompiledExpression[] = [];
  const rawExpressions = rule.expressions ?? [];
  if (!Array.isArray(rawExpressions)) {
    place.child(['expressions']).error('expressions must be a list of CEL expressions');
    ok = false;
  } else {
    rawExpressions.forEach((source, j) => {
      const at = place.child(['expressions', j], `${place.words}, expression ${j + 1}`);
      if (typeof source !== 'string') {
        at.error(`expression must be a string, got ${source === null ? 'null' : typeof source}`);
        ok = false;
        return;
      }
      const compiled = compileExpression(env, source, 'bool', ctx.limits);
      if (!compiled.ok) {
        at.error(compiled.message, { textOffset: compiled.offset });
        ok = false;
        return;
      }
      expressions.push(compiled.expression);
    });
  }
  const actions: CompiledAction[] = [];
  const rawActions = rule.actions;
  if (!Array.isArray(rawActions) || rawActions.length === 0) {
    (rawActions === undefined ? place : place.child(['actions'])).error(
      'a rule needs a non-empty list of actions',
    );
    ok = false;
  } else {
    rawActions.forEach((action, k) => {
      const type = isObject(action) && typeof action.type === 'string' ? action.type : undefined;
      const at = place.child(['actions', k], `${place.words}, action ${k + 1}${type ? ` (${type})` : ''}`);
      const compiled = compileAction(action, phase, at, env, ctx);
      if (compiled === undefined) ok = false;
      else if (compiled !== null) actions.push(compiled);
    });
  }
  if (!ok) return undefined;
  const ref = typeof name === 'string' ? { index, name } : { index };
  return { ref: Object.freeze(ref), expressions, actions };
}
