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
  decisionJsonText,
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

/**
 * The decision once its one lookup has answered (`lookupMs` after it was asked). The routes
 * await the lookup themselves and call this: a function that awaited it here was one more
 * promise, and one more turn, inside theirs (docs/decision.md).
 */
export function settleDecision(
  request: DecisionRequest,
  lookup: LookupResult,
  lookupMs: number,
): DecisionOutcome {
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

/**
 * `JSON.stringify(decisionAnswer(outcome))`, the same text, written directly (the policy
 * package's decisionJsonText): the answer of every decision and the biggest part of its log line.
 */
export function decisionAnswerJson(outcome: DecisionOutcome): string {
  return decisionJsonText(
    {
      endpoint: outcome.endpoint.url.href,
      clientIp: outcome.clientIp,
      decision: outcome.decision,
      pod: outcome.pod,
      lookup: outcome.lookup,
    },
    outcome.allowed,
    outcome.dryRun === undefined ? '' : `,"dry_run":{"verdict":"${outcome.dryRun}"}`,
  );
}
