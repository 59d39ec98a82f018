// Commands get their I/O as a parameter so tests can run them in-process and read
// what they printed (STYLE: pass I/O in, no process.* below the entry point).
import { readFile } from 'node:fs/promises';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  readText(path: string): Promise<string>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  stopSignal: Promise<string>;
}

export function processIo(): CliIo {
  const stopSignal = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
    readText: (path) => readFile(path, 'utf8'),
    stopSignal,
  };
}

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Exit codes shared by every subcommand. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;
