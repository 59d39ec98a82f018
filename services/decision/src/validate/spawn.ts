// Starts the validation worker's thread from the build (worker.js beside this file) or, when
// this module itself runs from the TypeScript sources (tests, `podgate dev` in a checkout),
// from worker.ts through tsx: a worker thread does not inherit the parent's module hooks, so
// its first act is to register tsx's, then import the entry.
import { Worker } from 'node:worker_threads';

export interface WorkerLimits {
  /** The worker's old generation, in MiB: past it the worker (only) is stopped. */
  maxOldGenerationSizeMb: number;
}

const FROM_SOURCES = import.meta.url.endsWith('.ts');
/**
 * V8's default young generation (tens of MiB) is sized for throughput; a worker that loads a
 * text now and then needs little. With 8 MiB a hostile 1 MiB text took the process from about
 * 95 to 156 MB at its peak, against 172 MB with V8's default (build, --validate-memory 32MiB);
 * a 585 KB file of 800 endpoints loads as fast either way.
 */
const YOUNG_GENERATION_MB = 8;

export function spawnValidationWorker(limits: WorkerLimits): Worker {
  const resourceLimits = {
    maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb,
    maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
  };
  if (!FROM_SOURCES) return new Worker(new URL('./worker.js', import.meta.url), { resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, execArgv: ['--conditions=podgate-source'], resourceLimits });
}
