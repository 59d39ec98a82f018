// What an upstream connect failure means for a connection, the same on both socket layers: a
// forward without `on_error: continue` ends there (refused with the failure's code); one with it
// resumes the policy at the next rule, which either names another target or refuses.
import type { Decision, ForwardTarget } from '@podgate/policy';
import type { UpstreamFailure } from './upstream.js';

export interface ConnectFailure {
  code: UpstreamFailure;
  message: string;
}

export type AfterConnectFailure =
  | { next: 'refuse'; end: UpstreamFailure | 'denied'; decision: Decision }
  | { next: 'connect'; decision: Decision; target: ForwardTarget };

export function afterConnectFailure(current: Decision, failure: ConnectFailure): AfterConnectFailure {
  const resume = current.allowed ? current.resume : undefined;
  if (resume === undefined) return { next: 'refuse', end: failure.code, decision: current };
  const decision = resume({ code: failure.code, message: failure.message });
  if (!decision.allowed || decision.target === undefined) return { next: 'refuse', end: 'denied', decision };
  return { next: 'connect', decision, target: decision.target };
}
