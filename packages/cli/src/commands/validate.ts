import { parseCommandArgs, UsageError } from '../args.js';
import { loadConfigFiles } from '../config-files.js';
import { type CliIo, type Command, EXIT } from '../io.js';

const HELP = `Usage: podgate validate [--each] FILE...

Loads the given YAML files together (AgentEndpoint, CloudEndpoint, NgrokTrafficPolicy,
or a bare traffic policy), type-checks every CEL expression and resolves every
forward-internal target, exactly as the services do at start. Loaded together, two
endpoints may not share a URL and a targetRef may point into another file.

Options:
  --each    validate every file on its own (unrelated examples, e.g. examples/seed/*.yaml)

Exit status: 0 when every file is valid (one summary line per file on stdout, warnings
on stderr); 1 with file:line:column errors on stderr when any is not; 2 on bad usage.`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check configuration files without running anything',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { each: { type: 'boolean' } }, true);
    if (positionals.length === 0) throw new UsageError('at least one FILE is required');
    const sets = values.each ? positionals.map((p) => [p]) : [positionals];
    let invalid = false;
    for (const set of sets) {
      if (!(await validateTogether(set, io))) invalid = true;
    }
    return invalid ? EXIT.invalid : EXIT.ok;
  },
};

async function validateTogether(paths: string[], io: CliIo): Promise<boolean> {
  const loaded = await loadConfigFiles(paths, io);
  if (!loaded) return false;
  for (const file of loaded.files) {
    io.out(
      `${file.path}: ok (${plural(file.endpoints, 'endpoint')}, ${plural(file.policies, 'traffic policy', 'traffic policies')})`,
    );
  }
  return true;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
