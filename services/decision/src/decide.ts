// One decision: one identity lookup at decision time (the service keeps no identity of its
// own, so any replica answers alike), the endpoint's on_tcp_connect rules, and the dry-run
// annotation: a dry-run endpoint's refusal is answered as an allow, the verdict it would have
// given kept beside it for the answer, the log line and the metrics.
import { type LookupResult, podVarsFromLookup } from '@podgate/identity';
import {
  type CompiledEndpoint,
  type Decision,
  type DecisionJson,
  decisionJson,
  type PodVars,
} from '@podgate/policy';

export interface DecisionRequest {
  endpoint: CompiledEndpoint;
  client: { ip: string; port: number };
  /** `conn.server_ip` / `conn.server_port`. */
  server: { ip: string; port: number };
  startedAt: Date;
}

export type Verdict = 'allow' | 'deny';

export interface DecisionOutcome {
  endpoint: CompiledEndpoint;
  clientIp: string;
  decision: Decision;
  lookup: LookupResult;
  pod: PodVars;
  lookupMs: number;
  /** What the caller is told to do: the policy's verdict, or allow on a dry-run endpoint. */
  allowed: boolean;
  /** On a dry-run endpoint: the verdict the policy gave (and would enforce without the annotation). */
  dryRun?: Verdict;
}

export interface DecideDeps {
  /** Never rejects (the store answers store_unavailable past its deadline). */
  lookup(ip: string): Promise<LookupResult>;
  /** Monotonic milliseconds. */
  now(): number;
}

export function decide(request: DecisionRequest, deps: DecideDeps): Promise<DecisionOutcome> {
  const started = deps.now();
  // A `then`, not an async function: one promise fewer on the path of every decision.
  return deps.lookup(request.client.ip).then((lookup) => settle(request, lookup, deps.now() - started));
}

function settle(request: DecisionRequest, lookup: LookupResult, lookupMs: number): DecisionOutcome {
  const pod = podVarsFromLookup(lookup);
  const decision = request.endpoint.evaluateTcpConnect({
    conn: {
      clientIp: request.client.ip,
      clientPort: request.client.port,
      serverIp: request.server.ip,
      serverPort: request.server.port,
      startedAt: request.startedAt,
    },
    pod,
  });
  const outcome: DecisionOutcome = {
    endpoint: request.endpoint,
    clientIp: request.client.ip,
    decision,
    lookup,
    pod,
    lookupMs,
    allowed: decision.allowed,
  };
  if (request.endpoint.dryRun) {
    outcome.allowed = true;
    outcome.dryRun = decision.allowed ? 'allow' : 'deny';
  }
  return outcome;
}

/** The answer of POST /v1/decisions: `podgate eval`'s JSON, `allowed` as the caller must act, and `dry_run`. */
export interface DecisionAnswer extends DecisionJson {
  /** Present on a dry-run endpoint: the policy's own verdict (action, rule, expression, error describe it). */
  dry_run?: { verdict: Verdict };
}

export function decisionAnswer(outcome: DecisionOutcome): DecisionAnswer {
  const json: DecisionAnswer = decisionJson({
    endpoint: outcome.endpoint.url.href,
    clientIp: outcome.clientIp,
    decision: outcome.decision,
    pod: outcome.pod,
    lookup: outcome.lookup,
  });
  json.allowed = outcome.allowed;
  if (outcome.dryRun !== undefined) json.dry_run = { verdict: outcome.dryRun };
  return json;
}

const str = JSON.stringify;

/**
 * `JSON.stringify(decisionAnswer(outcome))`, the same text, written directly: the answer of
 * every decision and the biggest part of its log line, built without the intermediate object.
 * A decision whose `log` actions or `set-vars` left values (CEL integers, maps) goes through
 * decisionAnswer, which converts them; the tests hold the two forms together.
 */
export function decisionAnswerJson(outcome: DecisionOutcome): string {
  const { decision, pod, lookup } = outcome;
  if (decision.logs.length > 0 || !isEmpty(decision.vars)) return str(decisionAnswer(outcome));
  const { rule, expression, error } = decision;
  const ruleJson =
    rule === undefined
      ? 'null'
      : rule.name === undefined
        ? `{"number":${rule.index + 1}}`
        : `{"number":${rule.index + 1},"name":${str(rule.name)}}`;
  const target = decision.target?.url;
  let json = `{"endpoint":${str(outcome.endpoint.url.href)},"client_ip":${str(outcome.clientIp)},"allowed":${outcome.allowed},"action":${str(decision.action)},"target":${target === undefined ? 'null' : str(target)},"rule":${ruleJson},"expression":${expression ? `{"number":${expression.index + 1},"source":${str(expression.source)}}` : 'null'},"error":${error ? `{"code":${str(error.code)},"message":${str(error.message)}}` : 'null'},"logs":[],"vars":{},"identity":{"id":${str(pod.id)},"metadata":{"name":${str(pod.name)},"namespace":${str(pod.namespace)},"annotations":${str(pod.annotations)},"error_code":${str(pod.errorCode)},"error_message":${str(pod.errorMessage)}},"cluster":${str(pod.cluster)}},"lookup":${lookup.ok ? '{"found":true}' : `{"found":false,"reason":${str(lookup.reason)},"message":${str(lookup.message)}}`}`;
  if (outcome.dryRun !== undefined) json += `,"dry_run":{"verdict":"${outcome.dryRun}"}`;
  return `${json}}`;
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}
