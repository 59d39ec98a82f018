export type { CompiledExpression } from './cel/compile.js';
export { compileExpression, DEFAULT_LIMITS } from './cel/compile.js';
export { httpEnvironment, inCidrRange, inCidrRanges, tcpEnvironment } from './cel/environment.js';
export { DECISION_ERROR_CODES, type DecisionErrorCode } from './decision-codes.js';
export {
  type DecisionJson,
  type DecisionJsonInput,
  type DecisionLookup,
  decisionJson,
  decisionJsonText,
  identityJsonText,
  type JsonScalar,
  type JsonValue,
} from './decision-json.js';
export { formatDiagnostic } from './diagnostics.js';
export { loadPolicyFiles } from './load/load.js';
export { parseEndpointUrl, parseInternalUrl, parseUpstreamUrl, parseUrl } from './load/urls.js';
export { type Cidr, cidrContains, parseCidr, parseIp } from './net/ip.js';
export type * from './types.js';
