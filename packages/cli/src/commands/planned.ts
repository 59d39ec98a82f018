import { type Command, EXIT } from '../io.js';

/** A subcommand the brief names that is not built yet: says so instead of pretending. */
export function plannedCommand(name: string, what: string): Command {
  const summary = `${what} (not built yet)`;
  return {
    name,
    summary,
    help: `podgate ${name}: ${summary}.\n\nThis subcommand is planned and not part of this release; see the README, "What is built, and what is not yet".`,
    async run(_argv, io) {
      io.err(
        `podgate ${name}: not built yet (${what}). See the README, "What is built, and what is not yet".`,
      );
      return EXIT.usage;
    },
  };
}
