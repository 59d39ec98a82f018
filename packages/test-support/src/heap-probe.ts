// The heap probe (heap-probe.mjs) from the test's side: the environment that loads it into a
// child process, and its lines read back.
import { existsSync, readFileSync } from 'node:fs';

const PROBE = new URL('./heap-probe.mjs', import.meta.url).pathname;

export interface HeapSample {
  /** Wall-clock milliseconds (Date.now()) in the probed process. */
  t: number;
  /** Bytes of JS heap in use after a full collection. */
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** Environment variables that make a Node child process write heap samples to `file`. */
export function heapProbeEnv(
  file: string,
  existing = process.env.NODE_OPTIONS ?? '',
): Record<string, string> {
  return {
    NODE_OPTIONS: `${existing} --expose-gc --import ${PROBE}`.trim(),
    PODGATE_HEAP_PROBE_FILE: file,
  };
}

export function readHeapSamples(file: string): HeapSample[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as HeapSample);
}
