// @podgate/cli: the `podgate` executable's commands, for the bin and for tests that run
// them in-process.
export { type CommandLineCheck, checkCommandLine } from './check-command-line.js';
export { type RunDecisionOptions, runDecisionCommand } from './commands/decision.js';
export { type RunWatcherOptions, runWatcherCommand } from './commands/watcher.js';
export { type CliIo, type Command, EXIT } from './io.js';
export { COMMANDS, main, topLevelHelp } from './main.js';
