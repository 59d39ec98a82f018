// @podgate/proxy: the TCP front proxy. startProxy runs listeners for the endpoints it is given;
// the service (config, admin server, reload, logs) is built on it.
export { BindingError, type BindOverride, DEFAULT_LISTEN_HOST, planListeners } from './bindings.js';
export { type ProxyConfig, type ProxyConfigInput, parseProxyConfig, proxyConfigSchema } from './config.js';
export type { ClientAddress, ConnectionEnd, ConnectionRecord } from './connection.js';
export { createProxyAdminApp } from './http/app.js';
export type { BoundListener, ListenAddress, ListenerPlan } from './listeners.js';
export { type ConnectionLogLine, connectionLogLine } from './log-line.js';
export { type ConnectionOutcome, outcomeOf, ProxyMetrics } from './metrics.js';
export { type ProxyDeps, type ProxyHandle, type ProxyOptions, startProxy } from './proxy.js';
export {
  loadProxyPlans,
  ProxyConfigError,
  type ProxyService,
  type ProxyServiceDeps,
  startProxyService,
} from './service.js';
export { type SharedLookups, sharedLookups } from './shared-lookups.js';
