// @podgate/runtime: the plumbing every Podgate service shares. Each capability is an
// interface with its real implementation (and, where tests need one, a manual one).
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { type BatchedWriter, type BatchWrite, batchedWriter } from './batched-writer.js';
export { type Clock, systemClock } from './clock.js';
export { type ParsedConfig, parseConfig, presentOnly } from './config.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export {
  HEAP_GROWING_PERCENT,
  KEEP_PRETENURING_FLAG,
  maglevWarning,
  NO_MAGLEV_FLAG,
  NO_PRETENURING_FLAG,
  tuneHeapForRequests,
  tuneHeapGrowth,
} from './heap-tuning.js';
export { type AdminDeps, createAdminApp, type ProbeSource, type Readiness } from './http/admin.js';
export { type HttpServerHandle, listenHttp } from './http/server.js';
export { jsonMilliseconds, jsonNumber } from './json-number.js';
export {
  createLogger,
  type DestinationStream,
  droppedLogLines,
  flushLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  logJsonFields,
} from './logger.js';
export {
  type Counter,
  createCounter,
  createGauge,
  createHistogram,
  createRegistry,
  type Gauge,
  type Histogram,
  type Registry,
  type RegistryOptions,
  registerLogDropMetric,
} from './metrics.js';
export {
  type CidrList,
  canonicalCidr,
  cidrListSchema,
  type ParsedCidrList,
  parseCidrList,
} from './parse/cidr.js';
export { durationSchema, lookupTimeoutSchema, parseDuration } from './parse/duration.js';
export {
  formatHostPort,
  type HostPort,
  type HostPortOptions,
  hostPortListSchema,
  hostPortSchema,
  parseHostPort,
  parseHostPortList,
} from './parse/host-port.js';
export {
  createPlainCounter,
  createPlainHistogram,
  type PlainCounter,
  type PlainCounterChild,
  type PlainHistogram,
  type PlainHistogramChild,
} from './plain-metrics.js';
export { type FileWatcher, manualFileWatcher, pollingFileWatcher } from './reload/file-watcher.js';
export {
  type ConfigReloader,
  createConfigReloader,
  type LoadOutcome,
  type ReloaderOptions,
  type ReloadOutcome,
} from './reload/reloader.js';
export { type ServeOptions, type ServiceHandle, serveUntilStopped } from './shutdown/serve.js';
export {
  type ManualSignals,
  manualSignals,
  nextSignal,
  onSignals,
  type SignalListener,
  type SignalSource,
  STOP_SIGNALS,
} from './shutdown/signals.js';
