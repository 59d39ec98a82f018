import { parseCommandArgs, UsageError } from '../args.js';
import { loadConfigFiles } from '../config-files.js';
import { type Command, EXIT } from '../io.js';

const HELP = `Usage: podgate validate FILE...

Loads the given YAML files together (AgentEndpoint, CloudEndpoint, NgrokTrafficPolicy,
or a bare traffic policy), type-checks every CEL expression and resolves every
forward-internal target, exactly as the services do at start.

Exit status: 0 when every file is valid (one summary line per file on stdout, warnings
on stderr); 1 with file:line:column errors on stderr when any is not; 2 on bad usage.`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check configuration files without running anything',
  help: HELP,
  async run(argv, io) {
    const { positionals } = parseCommandArgs(argv, {}, true);
    if (positionals.length === 0) throw new UsageError('at least one FILE is required');
    const loaded = await loadConfigFiles(positionals, io);
    if (!loaded) return EXIT.invalid;
    for (const file of loaded.files) {
      io.out(
        `${file.path}: ok (${plural(file.endpoints, 'endpoint')}, ${plural(file.policies, 'traffic policy', 'traffic policies')})`,
      );
    }
    return EXIT.ok;
  },
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
