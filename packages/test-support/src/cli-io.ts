// An in-memory CliIo: runs a `podgate` command in-process and keeps what it printed.
import { readFile } from 'node:fs/promises';
import type { CliIo } from '@podgate/cli';
import { type ManualSignals, manualSignals } from '@podgate/runtime';

export interface CapturedIo {
  io: CliIo;
  captured: { stdout: string; stderr: string };
  /** Asks the command to stop, as the first SIGTERM/SIGINT would. */
  stop(signal?: string): void;
  /** Signals the command listens to (SIGHUP, a second stop signal). */
  signals: ManualSignals;
}

export function captureIo(env: Record<string, string | undefined> = {}): CapturedIo {
  let stop: (signal: string) => void = () => {};
  const captured = { stdout: '', stderr: '' };
  const signals = manualSignals();
  const io: CliIo = {
    out: (text) => {
      captured.stdout += text.endsWith('\n') ? text : `${text}\n`;
    },
    err: (text) => {
      captured.stderr += text.endsWith('\n') ? text : `${text}\n`;
    },
    env,
    readText: (path) => readFile(path, 'utf8'),
    stopSignal: new Promise<string>((resolve) => {
      stop = resolve;
    }),
    signals,
  };
  return { io, captured, stop: (signal = 'SIGTERM') => stop(signal), signals };
}
