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
      storeOptions: readerStoreOptions,
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
