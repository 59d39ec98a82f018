import { readFile } from 'node:fs/promises';
import type { CliIo } from './io.js';

/** An in-memory CliIo for tests: captures what a command prints. */
export function captureIo(env: Record<string, string | undefined> = {}) {
  let stop: (signal: string) => void = () => {};
  const captured = { stdout: '', stderr: '' };
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
  };
  return { io, captured, stop: (signal = 'SIGTERM') => stop(signal) };
}
