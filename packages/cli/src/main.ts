import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';
import { decisionCommand } from './commands/decision.js';
import { devCommand } from './commands/dev.js';
import { evalCommand } from './commands/eval.js';
import { proxyCommand } from './commands/proxy.js';
import { validateCommand } from './commands/validate.js';
import { watcherCommand } from './commands/watcher.js';
import { type CliIo, type Command, EXIT, processIo } from './io.js';

export const COMMANDS: readonly Command[] = [
  watcherCommand,
  decisionCommand,
  proxyCommand,
  devCommand,
  validateCommand,
  evalCommand,
];

/** The version of this package (packages/cli/package.json), which is Podgate's version. */
export function podgateVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'podgate: allow or refuse connections by the Kubernetes pod they come from.',
    '',
    'Usage: podgate <command> [options]',
    '       podgate --version',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'podgate <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topLevelHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`podgate ${podgateVersion()}`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`podgate: unknown command '${name}'\n\n${topLevelHelp()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`podgate ${name}: ${error.message}\nRun 'podgate ${name} --help' for usage.`);
      return EXIT.usage;
    }
    // Anything else is still reported as one line a user can act on; the stack only on request.
    io.err(`podgate ${name}: ${(error as Error)?.message ?? String(error)}`);
    if (io.env.PODGATE_DEBUG) io.err(String((error as Error)?.stack ?? error));
    return EXIT.invalid;
  }
}
