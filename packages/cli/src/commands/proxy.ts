// `podgate proxy`: the TCP front proxy, run the way every service command runs
// (service-command.ts); its line per connection is written in batches.
import { type ProxyService, startProxyService } from '@podgate/proxy';
import type { Command } from '../io.js';
import {
  READER_MEMORY_STORE_WARNING,
  type RunServiceOptions,
  readerStoreOptions,
  runServiceCommand,
} from '../service-command.js';
import { PROXY_FLAGS, PROXY_HELP, type ProxyFlags, parseProxyFlags } from './proxy-flags.js';

export type RunProxyOptions = RunServiceOptions<ProxyService>;

export function runProxyCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunProxyOptions = {},
): Promise<number> {
  return runServiceCommand<ProxyFlags, ProxyService>(
    {
      name: 'proxy',
      flags: PROXY_FLAGS,
      help: PROXY_HELP,
      parse: parseProxyFlags,
      logLevel: (config) => config.logLevel,
      perRequest: true,
      maglevWarning: true,
      storeOptions: readerStoreOptions,
      memoryStoreWarning: READER_MEMORY_STORE_WARNING,
      start: (config, deps) => startProxyService(config, { ...deps, clusters: config.clusters }),
      // The service drains its connections itself (--drain-timeout), then closes its admin server.
      drainTimeoutMs: (config) => config.drainTimeoutMs + 5_000,
    },
    argv,
    env,
    options,
  );
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'TCP front proxy: identity lookup and on_tcp_connect at connect time, then close or forward',
  help: PROXY_HELP,
  run: (argv, io) =>
    runProxyCommand(argv, io.env as NodeJS.ProcessEnv, {
      stopSignal: io.stopSignal,
      signals: io.signals,
      err: io.err,
      out: io.out,
    }),
};
