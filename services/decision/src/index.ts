// @podgate/decision: the decision service. config.ts (parseDecisionConfig) and service.ts
// (startDecisionService); the app factory and the pure parts are exported for `podgate dev`,
// tests and benchmarks.
export { bearerToken, type ParsedTokenFile, parseTokenFile, type TokenSet } from './auth/tokens.js';
export {
  type ClientAddress,
  type ClientIpInput,
  type ClientIpResult,
  type ClientSource,
  parseHop,
  resolveClient,
} from './client-ip.js';
export {
  DEFAULT_LISTEN,
  DEFAULT_MAX_BODY,
  type DecisionConfig,
  type DecisionConfigInput,
  decisionConfigSchema,
  parseByteSize,
  parseDecisionConfig,
} from './config.js';
export {
  type DecisionAnswer,
  type DecisionOutcome,
  type DecisionRequest,
  decisionAnswer,
  decisionAnswerJson,
  settleDecision,
  type Verdict,
} from './decide.js';
export { chooseEndpoint, ENDPOINT_HEADER, ENDPOINT_QUERY, type EndpointChoice } from './endpoint-param.js';
export { createDecisionApp } from './http/app.js';
export type { AppEnv, DecisionAppDeps } from './http/context.js';
export { OPENAPI_DOCUMENT, openApiYaml } from './http/openapi/document.js';
export { DRY_RUN_HEADER, IDENTITY_HEADERS } from './http/routes/common.js';
export { type LiveConfig, loadLiveConfig } from './live-config.js';
export { type DecisionLogLine, decisionLogLine } from './log-line.js';
export { DecisionMetrics } from './metrics.js';
export {
  type DecisionService,
  type DecisionServiceDeps,
  DecisionServiceError,
  startDecisionService,
} from './service.js';
