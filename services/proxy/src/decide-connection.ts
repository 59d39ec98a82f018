// The connection's decision, the same on both socket layers: the endpoint's rules on the
// connection and the identity snapshot, recorded; then where it goes. A dry-run endpoint lets a
// refused connection through, to where the policy would send allowed ones, and the record keeps
// the verdict it would have given. No target: refuse.
import { type LookupResult, podVarsFromLookup } from '@podgate/identity';
import type { CompiledEndpoint, ConnInfo, Decision, ForwardTarget } from '@podgate/policy';
import type { ConnectionRecord } from './connection.js';

export function decideConnection(
  endpoint: CompiledEndpoint,
  conn: ConnInfo,
  lookup: LookupResult,
  record: ConnectionRecord,
): { decision: Decision; target: ForwardTarget | undefined } {
  const decision = endpoint.evaluateTcpConnect({ conn, pod: podVarsFromLookup(lookup) });
  record.decision = decision;
  if (decision.allowed) return { decision, target: decision.target };
  if (!endpoint.dryRun) return { decision, target: undefined };
  record.dryRun = true;
  return { decision, target: endpoint.dryRunTarget };
}
