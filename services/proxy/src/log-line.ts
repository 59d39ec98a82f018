// The one JSON log line per connection, written when it ends: who the client was and where that
// came from, the identity snapshot, the decision and its reason (the same JSON form as
// `podgate eval` prints and the decision service answers), bytes each way, how it ended.
import { podVarsFromLookup } from '@podgate/identity';
import { type DecisionJson, decisionJson, decisionJsonText } from '@podgate/policy';
import { jsonMilliseconds, jsonNumber } from '@podgate/runtime';
import type { ConnectionRecord } from './connection.js';

export interface ConnectionLogLine {
  endpoint: string;
  listener: string;
  client: { ip: string; port: number; from: ConnectionRecord['client']['from'] };
  peer?: { ip: string; port: number };
  /** Absent when the connection ended before its decision (a refused PROXY header). */
  decision?: DecisionJson;
  dry_run?: true;
  upstream?: string;
  lookup_ms?: number;
  bytes_from_client: number;
  bytes_from_upstream: number;
  duration_ms: number;
  end: ConnectionRecord['end'];
  error?: { code: string; message: string };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function connectionLogLine(record: ConnectionRecord): ConnectionLogLine {
  const line: ConnectionLogLine = {
    endpoint: record.endpoint,
    listener: record.listener,
    client: record.client,
    bytes_from_client: record.bytesFromClient,
    bytes_from_upstream: record.bytesFromUpstream,
    duration_ms: round(record.durationMs),
    end: record.end,
  };
  if (record.peer !== undefined) line.peer = record.peer;
  if (record.decision !== undefined && record.lookup !== undefined) {
    line.decision = decisionJson({
      endpoint: record.endpoint,
      clientIp: record.client.ip,
      decision: record.decision,
      pod: podVarsFromLookup(record.lookup),
      lookup: record.lookup,
    });
  }
  if (record.dryRun === true) line.dry_run = true;
  if (record.upstream !== undefined) line.upstream = record.upstream;
  if (record.lookupMs !== undefined) line.lookup_ms = round(record.lookupMs);
  if (record.error !== undefined) line.error = record.error;
  return line;
}

const str = JSON.stringify;
const num = jsonNumber;

/**
 * `JSON.stringify(connectionLogLine(record))`, the same text, written directly: the decision
 * through the policy package's decisionJsonText (the identity's JSON made once per pod), no
 * intermediate objects. The tests hold the two forms together.
 */
export function connectionLogText(record: ConnectionRecord): string {
  return `{${connectionLogFields(record)}}`;
}

/** connectionLogText without its braces: the fields, as the log writer hands them to the logger. */
export function connectionLogFields(record: ConnectionRecord): string {
  const { client, peer, error } = record;
  let text = `"endpoint":${str(record.endpoint)},"listener":${str(record.listener)},"client":{"ip":${str(client.ip)},"port":${num(client.port)},"from":${str(client.from)}},"bytes_from_client":${num(record.bytesFromClient)},"bytes_from_upstream":${num(record.bytesFromUpstream)},"duration_ms":${jsonMilliseconds(record.durationMs)},"end":${str(record.end)}`;
  if (peer !== undefined) text += `,"peer":{"ip":${str(peer.ip)},"port":${num(peer.port)}}`;
  if (record.decision !== undefined && record.lookup !== undefined) {
    text += `,"decision":${decisionJsonText({
      endpoint: record.endpoint,
      clientIp: client.ip,
      decision: record.decision,
      pod: podVarsFromLookup(record.lookup),
      lookup: record.lookup,
    })}`;
  }
  if (record.dryRun === true) text += ',"dry_run":true';
  if (record.upstream !== undefined) text += `,"upstream":${str(record.upstream)}`;
  if (record.lookupMs !== undefined) text += `,"lookup_ms":${jsonMilliseconds(record.lookupMs)}`;
  if (error !== undefined) text += `,"error":{"code":${str(error.code)},"message":${str(error.message)}}`;
  return text;
}
