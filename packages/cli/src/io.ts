// Commands get their I/O as a parameter so tests can run them in-process and read
// what they printed (STYLE: pass I/O in, no process.* below the entry point).
import { readFile } from 'node:fs/promises';
import { EXIT, nextSignal, type SignalSource } from '@podgate/runtime';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  readText(path: string): Promise<string>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  stopSignal: Promise<string>;
  /** Later signals: SIGHUP (reload), a second SIGTERM/SIGINT (stop now). */
  signals: SignalSource;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
    readText: (path) => readFile(path, 'utf8'),
    stopSignal: nextSignal(process),
    signals: process,
  };
}

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Exit codes shared by every subcommand (and service). */
export { EXIT };
