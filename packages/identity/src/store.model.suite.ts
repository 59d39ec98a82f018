// The model-based randomized test of an IdentityStore, run per backend like the contract
// suite (store.contract.ts). A fixed number of runs by default; longer or replayed runs:
//   STORE_MODEL_RUNS=500             runs per backend
//   STORE_MODEL_COMMANDS=60          commands per run at most (default 40)
//   STORE_MODEL_SEED=123 STORE_MODEL_PATH=... STORE_MODEL_REPLAY=...   replay a reported
//                                    failure: its seed, path and replayPath
//   STORE_MODEL_TIME_LIMIT_MS=600000 stop generating and shrinking after this long (see msPerRun)
//   STORE_MODEL_STATS=1              print what the runs exercised
//   STORE_MODEL_CHECK=safety         fail only on a wrong identity served (Harness CheckMode)
// A failure prints its seed and path, the shrunk command list, and the failing run's steps
// (each op resolved, its outcome, and the order of the Redis commands of concurrent writers).
import fc from 'fast-check';
import { it } from 'vitest';
import { storeModelCommands } from './store.model.commands.js';
import { type CheckMode, coverage, Harness, type ModelBackend } from './store.model.harness.js';

function envInt(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

function checkMode(text: string | undefined): CheckMode {
  if (text === undefined || text === '' || text === 'exact') return 'exact';
  if (text === 'safety') return 'safety';
  throw new Error(`STORE_MODEL_CHECK must be exact or safety, got ${JSON.stringify(text)}`);
}

let runCounter = 0;

export interface ModelSuiteOptions {
  /** Runs in the normal suite (STORE_MODEL_RUNS overrides). */
  runs: number;
  /**
   * The time limit of generating and shrinking together is a minute plus this per run
   * (STORE_MODEL_TIME_LIMIT_MS overrides). Reaching it before all runs is a failure: a run
   * cut short must not pass as a full one. Reaching it while shrinking reports the smallest
   * counterexample found so far.
   */
  msPerRun: number;
}

export function describeStoreModel(
  name: string,
  backend: () => ModelBackend,
  options: ModelSuiteOptions,
): void {
  const runs = envInt('STORE_MODEL_RUNS') ?? options.runs;
  const maxCommands = envInt('STORE_MODEL_COMMANDS') ?? 40;
  const seed = envInt('STORE_MODEL_SEED');
  const path = process.env.STORE_MODEL_PATH || undefined;
  const replayPath = process.env.STORE_MODEL_REPLAY || undefined;
  const timeLimit = envInt('STORE_MODEL_TIME_LIMIT_MS') ?? 60_000 + runs * options.msPerRun;
  const check = checkMode(process.env.STORE_MODEL_CHECK);
  it(`model-based: ${name} matches the reference model (${runs} runs)`, {
    timeout: timeLimit + 60_000,
  }, async () => {
    const property = fc.asyncProperty(storeModelCommands(maxCommands, replayPath), async (commands) => {
      // A prefix of its own per run: runs (and shrink attempts) share the server, not data.
      const harness = await Harness.open(backend(), `sm${++runCounter}:`, check);
      try {
        await fc.asyncModelRun(() => ({ model: harness, real: harness }), commands);
      } finally {
        await harness.close();
      }
    });
    await fc.assert(property, {
      numRuns: runs,
      ...(seed !== undefined ? { seed } : {}),
      ...(path !== undefined ? { path } : {}),
      includeErrorInReport: true,
      plugins: [fc.interruptAfterTimeLimit(timeLimit, { failOnInterrupt: true })],
    });
    if (process.env.STORE_MODEL_STATS) console.log(`store model, ${name}:`, coverage);
  });
}
