// The one JSON log line per decision: who the client was and how that was derived (the TCP
// peer, or which header of a trusted proxy, or the request body), the verdict answered and the
// dry-run verdict beside it, the decision with its reason and the identity it saw (the same
// JSON form `podgate eval` prints), and how long the lookup took.
import { jsonMilliseconds, jsonNumber } from '@podgate/runtime';
import type { ClientSource } from './client-ip.js';
import { type DecisionAnswer, type DecisionOutcome, decisionAnswer, type Verdict } from './decide.js';
import type { DecisionRoute } from './metrics.js';

/** Where the client IP came from: a forward-auth request's peer or headers, or the API's body. */
export type ClientOrigin = ClientSource | 'body';

export interface DecisionLogLine {
  route: DecisionRoute;
  endpoint: string;
  client: { ip: string; port: number; from: ClientOrigin };
  /** The TCP peer that asked. */
  peer: { ip: string; port: number };
  request_id?: string;
  /** What was answered. */
  verdict: Verdict;
  /** On a dry-run endpoint: the policy's own verdict. */
  dry_run?: { verdict: Verdict };
  decision: DecisionAnswer;
  lookup_ms: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function decisionLogLine(
  route: DecisionRoute,
  outcome: DecisionOutcome,
  client: DecisionLogLine['client'],
  peer: DecisionLogLine['peer'],
  requestId: string | undefined,
  answer: DecisionAnswer = decisionAnswer(outcome),
): DecisionLogLine {
  const line: DecisionLogLine = {
    route,
    endpoint: outcome.endpoint.url.href,
    client,
    peer,
    verdict: outcome.allowed ? 'allow' : 'deny',
    decision: answer,
    lookup_ms: round(outcome.lookupMs),
  };
  if (requestId !== undefined) line.request_id = requestId;
  if (outcome.dryRun !== undefined) line.dry_run = { verdict: outcome.dryRun };
  return line;
}

/**
 * The same line as decisionLogLine, as the JSON text of its fields (no braces), with the
 * decision given as the JSON text already built for the answer: serialised once per request,
 * not once for the answer and again, key by key, by the logger. `JSON.parse(`{${fields}}`)`
 * equals decisionLogLine's object, key order included (the tests hold the two together).
 */
export function decisionLogFields(
  route: DecisionRoute,
  outcome: DecisionOutcome,
  client: DecisionLogLine['client'],
  peer: DecisionLogLine['peer'],
  requestId: string | undefined,
  answerJson: string,
): string {
  let fields = `"route":"${route}","endpoint":${JSON.stringify(outcome.endpoint.url.href)},"client":{"ip":${JSON.stringify(client.ip)},"port":${number(client.port)},"from":"${client.from}"},"peer":{"ip":${JSON.stringify(peer.ip)},"port":${number(peer.port)}},"verdict":"${outcome.allowed ? 'allow' : 'deny'}","decision":${answerJson},"lookup_ms":${jsonMilliseconds(outcome.lookupMs)}`;
  if (requestId !== undefined) fields += `,"request_id":${JSON.stringify(requestId)}`;
  if (outcome.dryRun !== undefined) fields += `,"dry_run":{"verdict":"${outcome.dryRun}"}`;
  return fields;
}

/** A number as JSON.stringify writes it (null when not finite). */
const number = jsonNumber;

const REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** A caller's X-Request-Id (nginx's $request_id, Envoy's x-request-id), if it is a safe token. */
export function requestIdOf(header: string | undefined | null): string | undefined {
  return header !== undefined && header !== null && REQUEST_ID.test(header) ? header : undefined;
}
