// A long-running command's flags and environment checked without running it: parsed as the
// command parses them (an unknown flag or a bad value is refused, every problem listed), no
// store opened, no file read. For deployment files (compose, Kubernetes) checked in CI.
import { parseArgs } from 'node:util';
import { errorMessage } from '@podgate/errors';
import type { ParsedConfig } from '@podgate/runtime';
import type { FlagValues } from './args.js';
import { DECISION_FLAGS, parseDecisionFlags } from './commands/decision-flags.js';
import { PROXY_FLAGS, parseProxyFlags } from './commands/proxy-flags.js';
import { parseWatcherFlags, WATCHER_FLAGS } from './commands/watcher-flags.js';

type Env = Readonly<Record<string, string | undefined>>;

const SERVICE_COMMANDS: Record<
  string,
  { flags: object; parse(v: FlagValues, env: Env): ParsedConfig<unknown> }
> = {
  watcher: { flags: WATCHER_FLAGS, parse: parseWatcherFlags },
  proxy: { flags: PROXY_FLAGS, parse: parseProxyFlags },
  decision: { flags: DECISION_FLAGS, parse: parseDecisionFlags },
};

export type CommandLineCheck = { ok: true; command: string } | { ok: false; message: string };

/** `argv` as after `podgate` (`['proxy', '--config', 'f.yaml']`), with the environment it would run in. */
export function checkCommandLine(argv: readonly string[], env: Env = {}): CommandLineCheck {
  const [command = '', ...rest] = argv;
  const spec = Object.hasOwn(SERVICE_COMMANDS, command) ? SERVICE_COMMANDS[command] : undefined;
  if (spec === undefined) {
    const known = Object.keys(SERVICE_COMMANDS).join(', ');
    return { ok: false, message: `'${command}' is not a service command (${known})` };
  }
  let values: FlagValues;
  try {
    values = parseArgs({
      args: [...rest],
      options: spec.flags as NonNullable<Parameters<typeof parseArgs>[0]>['options'],
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return { ok: false, message: `podgate ${command}: ${errorMessage(error)}` };
  }
  const parsed = spec.parse(values, env);
  return parsed.ok ? { ok: true, command } : { ok: false, message: `podgate ${command}: ${parsed.message}` };
}
