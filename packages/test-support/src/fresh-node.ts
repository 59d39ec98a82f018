// A snippet of ESM run in a Node.js process of its own, through tsx (so it can import a package's
// TypeScript sources by path). For what only a fresh process shows: V8 dying outright near a
// stack overflow (a fatal error no in-process test survives, and which warm, already compiled
// code may not reach), or flags that V8 reads once.
import { spawnSync } from 'node:child_process';

export interface FreshRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runInFreshNode(
  code: string,
  nodeFlags: readonly string[] = [],
  timeoutMs = 30_000,
): FreshRun {
  const run = spawnSync(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', code],
    {
      encoding: 'utf8',
      timeout: timeoutMs,
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
