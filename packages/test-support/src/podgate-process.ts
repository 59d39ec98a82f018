// The `podgate` executable as a real child process, as an operator runs it: its JSON log lines
// (stdout) handed to listeners as they come, stderr kept, its exit code and signal. Processes
// still running when the test process exits are killed (SIGKILL) on the way out.
import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './wait.js';

const BIN = new URL('../../cli/bin/podgate.js', import.meta.url).pathname;
/** Lines kept for diagnostics (the listeners see every line). */
const KEPT_LINES = 400;

export type LogLine = Record<string, unknown>;

export interface PodgateExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PodgateProcess {
  readonly command: string;
  readonly pid: number;
  /** The last lines of stdout, parsed (lines that are not JSON are kept as `{raw}`). */
  recent(): LogLine[];
  /** Everything written to stderr so far (bounded to the first 64 KiB). */
  stderr(): string;
  /** Called with every stdout line from now on. Returns the unsubscribe function. */
  onLine(listener: (line: LogLine) => void): () => void;
  /** Resolves with the first line (seen from the start) for which `match` holds. */
  waitForLine(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Null while running. */
  exit(): PodgateExit | null;
  readonly exited: Promise<PodgateExit>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<PodgateExit>;
}

const live = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Starts `podgate COMMAND ARGS` with `env` added to the test's environment. */
export function spawnPodgate(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): PodgateProcess {
  const child = spawn(process.execPath, [BIN, command, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  installExitHook();
  const kept: LogLine[] = [];
  const all: LogLine[] = [];
  let keepAll = true;
  const listeners = new Set<(line: LogLine) => void>();
  let partial = '';
  let errText = '';
  let exitState: PodgateExit | null = null;

  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { raw: text };
      }
      kept.push(line);
      if (kept.length > KEPT_LINES) kept.shift();
      // The first lines (start-up) are kept whole for waitForLine; a busy service writes
      // one line per connection, so only listeners see those.
      if (keepAll) {
        all.push(line);
        if (all.length >= KEPT_LINES) keepAll = false;
      }
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (errText.length < 65_536) errText += chunk;
  });
  const exited = new Promise<PodgateExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitState = { code, signal };
      live.delete(child);
      resolve(exitState);
    });
  });

  const handle: PodgateProcess = {
    command,
    pid: child.pid ?? 0,
    recent: () => [...kept],
    stderr: () => errText,
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForLine(what, match, timeoutMs = 20_000) {
      return waitFor(
        `podgate ${command}: ${what}`,
        () => {
          const found = all.find(match) ?? kept.find(match);
          if (found) return found;
          if (exitState !== null) {
            throw new Error(
              `podgate ${command} exited (${JSON.stringify(exitState)}) before ${what}: ${errText.slice(-2000)}`,
            );
          }
          return undefined;
        },
        timeoutMs,
        20,
      );
    },
    exit: () => exitState,
    exited,
    kill(signal) {
      if (exitState === null) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (exitState !== null) return exitState;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return handle;
}
