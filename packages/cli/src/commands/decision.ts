// `podgate decision`: the decision service, run the way every service command runs
// (service-command.ts).
import { type DecisionService, startDecisionService } from '@podgate/decision';
import type { Command } from '../io.js';
import {
  READER_MEMORY_STORE_WARNING,
  type RunServiceOptions,
  readerStoreOptions,
  runServiceCommand,
} from '../service-command.js';
import { DECISION_FLAGS, DECISION_HELP, type DecisionFlags, parseDecisionFlags } from './decision-flags.js';

export type RunDecisionOptions = RunServiceOptions<DecisionService>;

/**
 * Each decision waits for its lookup: at 50 keep-alive connections a turn of the event loop
 * reads 20-30 requests, and with their lookups sent only at its end the server's core sat idle
 * about a tenth of the time, waiting for Redis. Sent this many at a time, Redis starts on the
 * first while the rest are read. 4 cost more CPU than it saved; 8, 12 and 16 kept the core
 * busy alike (measured side by side: docs/decision.md).
 */
export const DECISION_LOOKUP_FLUSH_AFTER = 12;

export function runDecisionCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunDecisionOptions = {},
): Promise<number> {
  return runServiceCommand<DecisionFlags, DecisionService>(
    {
      name: 'decision',
      flags: DECISION_FLAGS,
      help: DECISION_HELP,
      parse: parseDecisionFlags,
      logLevel: (config) => config.logLevel,
      perRequest: true,
      heapGrowth: true,
      storeOptions: (config, onError) => ({
        ...readerStoreOptions(config, onError),
        lookupFlushAfter: DECISION_LOOKUP_FLUSH_AFTER,
      }),
      memoryStoreWarning: READER_MEMORY_STORE_WARNING,
      start: (config, deps) => startDecisionService(config, { ...deps, clusters: config.clusters }),
      drainTimeoutMs: (config) => config.drainTimeoutMs,
    },
    argv,
    env,
    options,
  );
}

export const decisionCommand: Command = {
  name: 'decision',
  summary: 'HTTP decision service: JSON API and forward-auth for nginx, Traefik, Caddy and Envoy',
  help: DECISION_HELP,
  run: (argv, io) =>
    runDecisionCommand(argv, io.env as NodeJS.ProcessEnv, {
      stopSignal: io.stopSignal,
      signals: io.signals,
      err: io.err,
      out: io.out,
    }),
};
