// A decision as JSON: what `podgate eval` prints, and the shape of every place a decision leaves
// the process (the decision service's answers, the proxy's per-connection log line). Rules and
// expressions are numbered from 1 here, as in load errors: `rule.number`, `expression.number`.
import type { DecisionErrorCode } from './decision-codes.js';
import type { DecidingAction, Decision, PodVars } from './types.js';

export type JsonScalar = string | number | boolean | null;
export type JsonValue = JsonScalar | JsonValue[] | { [key: string]: JsonValue };

/**
 * Why identity is present or missing. Structurally the identity package's lookup result (this
 * package does not import it): `reason` is one of its closed set.
 */
export type DecisionLookup = { ok: true } | { ok: false; reason: string; message: string };

export interface DecisionJsonInput {
  /** The endpoint's URL, or a standalone policy's name. */
  endpoint: string;
  clientIp: string;
  decision: Decision;
  /** The identity the policy saw. */
  pod: PodVars;
  lookup: DecisionLookup;
}

export interface DecisionJson {
  endpoint: string;
  client_ip: string;
  allowed: boolean;
  action: DecidingAction;
  /** The target's URL as configured (forward-internal's internal URL, an AgentEndpoint's upstream). */
  target: string | null;
  /**
   * The rule that decided, numbered from 1 as load errors and the verdict table number it ("rule 2");
   * null for an AgentEndpoint's upstream and for falling off the end.
   */
  rule: { number: number; name?: string } | null;
  /** The expression that failed to evaluate, numbered from 1 within its rule ("expression 1"). */
  expression: { number: number; source: string } | null;
  error: { code: DecisionErrorCode; message: string } | null;
  /** Every `log` action's map, in order; CEL integers as JSON numbers. */
  logs: Array<{ [key: string]: JsonValue }>;
  /** `vars.*` as they stood when the decision was made; CEL integers as JSON numbers. */
  vars: { [key: string]: JsonValue };
  /** `conn.k8s.pod.*` and `conn.k8s.cluster` as the policy saw them. */
  identity: {
    id: string;
    metadata: {
      name: string;
      namespace: string;
      annotations: Record<string, string>;
      error_code: string;
      error_message: string;
    };
    cluster: string;
  };
  lookup: { found: true } | { found: false; reason: string; message: string };
}

/** The JSON form of a decision: `JSON.stringify` of it needs no replacer. */
export function decisionJson({ endpoint, clientIp, decision, pod, lookup }: DecisionJsonInput): DecisionJson {
  const { rule, expression, error } = decision;
  return {
    endpoint,
    client_ip: clientIp,
    allowed: decision.allowed,
    action: decision.action,
    target: decision.target?.url ?? null,
    rule: rule ? ruleJson(rule) : null,
    expression: expression ? { number: expression.index + 1, source: expression.source } : null,
    error: error ? { code: error.code, message: error.message } : null,
    logs: decision.logs.map(jsonObject),
    vars: jsonObject(decision.vars),
    identity: {
      id: pod.id,
      metadata: {
        name: pod.name,
        namespace: pod.namespace,
        annotations: pod.annotations,
        error_code: pod.errorCode,
        error_message: pod.errorMessage,
      },
      cluster: pod.cluster,
    },
    lookup: lookup.ok ? { found: true } : { found: false, reason: lookup.reason, message: lookup.message },
  };
}

/**
 * `Decision.rule.index` is the rule's place in its list, for code; everything a person reads
 * (load errors, this form, the verdict table) counts from 1, in a field named for it.
 */
function ruleJson(rule: { index: number; name?: string }): NonNullable<DecisionJson['rule']> {
  const number = rule.index + 1;
  return rule.name === undefined ? { number } : { number, name: rule.name };
}

/**
 * A copy holding only JSON, with what JSON.stringify would write: CEL integers (BigInt, which it
 * refuses) as numbers, non-finite numbers as null, and entries it would skip left out. The copy
 * has no prototype, so a key such as `__proto__` stays an ordinary entry.
 */
function jsonObject(value: Record<string, unknown>): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = Object.create(null);
  for (const key of Object.keys(value)) {
    const converted = jsonValue(value[key]);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

function jsonValue(value: unknown): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return jsonValue(Number(value));
    case 'object':
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((v) => jsonValue(v) ?? null);
      return jsonObject(value as Record<string, unknown>);
    default:
      // undefined, functions, symbols: JSON.stringify leaves them out.
      return undefined;
  }
}

const str = JSON.stringify;

/** Identity JSON per shared (frozen) pod view: every decision of that pod writes the same text. */
const identityTexts = new WeakMap<PodVars, string>();

/** `JSON.stringify(decisionJson(...).identity)` for this pod view. */
export function identityJsonText(pod: PodVars): string {
  const known = identityTexts.get(pod);
  if (known !== undefined) return known;
  const text = `{"id":${str(pod.id)},"metadata":{"name":${str(pod.name)},"namespace":${str(pod.namespace)},"annotations":${str(pod.annotations)},"error_code":${str(pod.errorCode)},"error_message":${str(pod.errorMessage)}},"cluster":${str(pod.cluster)}}`;
  if (Object.isFrozen(pod) && Object.isFrozen(pod.annotations)) identityTexts.set(pod, text);
  return text;
}

/**
 * `JSON.stringify(decisionJson(input))`, the same text, written directly: every decision the
 * services answer or log is serialised here, without the intermediate object, and with the
 * identity's JSON made once per pod. `allowed` is what the caller is told (the decision service
 * answers a dry-run endpoint's refusal as an allow); `extra` is JSON members (`,"k":v`) added at
 * the end. A decision whose `log` actions or `set-vars` left values (CEL integers, maps) goes
 * through decisionJson, which converts them. The tests hold the two forms together.
 */
export function decisionJsonText(
  input: DecisionJsonInput,
  allowed = input.decision.allowed,
  extra = '',
): string {
  const { decision, pod, lookup } = input;
  if (decision.logs.length > 0 || !isEmptyRecord(decision.vars)) {
    const json = decisionJson(input);
    json.allowed = allowed;
    const text = str(json);
    return extra === '' ? text : `${text.slice(0, -1)}${extra}}`;
  }
  const { rule, expression, error } = decision;
  const ruleText =
    rule === undefined
      ? 'null'
      : rule.name === undefined
        ? `{"number":${rule.index + 1}}`
        : `{"number":${rule.index + 1},"name":${str(rule.name)}}`;
  const target = decision.target?.url;
  const expressionText = expression
    ? `{"number":${expression.index + 1},"source":${str(expression.source)}}`
    : 'null';
  const errorText = error ? `{"code":${str(error.code)},"message":${str(error.message)}}` : 'null';
  const lookupText = lookup.ok
    ? '{"found":true}'
    : `{"found":false,"reason":${str(lookup.reason)},"message":${str(lookup.message)}}`;
  return `{"endpoint":${str(input.endpoint)},"client_ip":${str(input.clientIp)},"allowed":${allowed},"action":${str(decision.action)},"target":${target === undefined ? 'null' : str(target)},"rule":${ruleText},"expression":${expressionText},"error":${errorText},"logs":[],"vars":{},"identity":${identityJsonText(pod)},"lookup":${lookupText}${extra}}`;
}

function isEmptyRecord(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}
