// The fuzzer's command line: runs each target (all, or those named) for FUZZ_SECONDS seconds
// (default 10) from seed FUZZ_SEED (default 1), each in its own process, writes
// .tmp/fuzz-report.json, saves every crashing input under .tmp/fuzz-crashes/, and exits 1 if
// anything crashed.
//   npm run fuzz                                  every target, 10 s each
//   FUZZ_SECONDS=600 npm run fuzz                 a long run
//   FUZZ_SECONDS=60 FUZZ_SEED=7 npm run fuzz -- resp watch-lines
// FUZZ_MAX_INPUTS=N stops each target after N inputs (with a seed: exactly reproducible).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzz, type TargetReport } from './harness.js';
import { TARGETS } from './targets/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${text}`);
  return n;
}

function corpusOf(name: string): Uint8Array[] {
  const dir = join(root, 'test/fuzz/corpus', name);
  try {
    return readdirSync(dir)
      .sort()
      .map((f) => readFileSync(join(dir, f)));
  } catch {
    return [];
  }
}

const seconds = number('FUZZ_SECONDS', process.env.FUZZ_SECONDS, 10);
const seed = number('FUZZ_SEED', process.env.FUZZ_SEED, 1);
const maxInputs = number('FUZZ_MAX_INPUTS', process.env.FUZZ_MAX_INPUTS, Number.POSITIVE_INFINITY);
const reportPath = process.env.FUZZ_REPORT ?? join(root, '.tmp/fuzz-report.json');
const args = process.argv.slice(2);

if (args[0] === '--child') {
  // One target in this process; its report as the last line of stdout.
  const target = await TARGETS[args[1]!]!();
  const report = fuzz(target, corpusOf(target.name), {
    seconds,
    seed,
    ...(Number.isFinite(maxInputs) ? { maxInputs } : {}),
  });
  console.log(JSON.stringify(report));
  process.exit(0);
}

const unknown = args.filter((a) => !(a in TARGETS));
if (unknown.length > 0) {
  console.error(`unknown targets: ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
const chosen = args.length === 0 ? Object.keys(TARGETS) : args;
const started = new Date();
const reports: TargetReport[] = [];
for (const name of chosen) {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', name],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const last = child.stdout.trim().split('\n').pop() ?? '';
  let report: TargetReport;
  try {
    report = JSON.parse(last) as TargetReport;
  } catch {
    // The process itself died (out of memory, a crash the harness could not catch).
    const message = `fuzz process exited with ${child.status ?? child.signal}: ${child.stderr.slice(-500)}`;
    report = {
      target: name,
      seed,
      seconds,
      inputs: 0,
      corpus: 0,
      features: 0,
      seedFeatures: 0,
      slowestMs: 0,
      crashes: [{ target: name, kind: 'throw', message, input: '', sha1: '' }],
    };
  }
  reports.push(report);
  console.log(
    `${report.target}: ${report.inputs} inputs, ${report.features} blocks (${report.seedFeatures} from seeds), corpus ${report.corpus}, ${report.crashes.length} crashes, slowest ${report.slowestMs} ms`,
  );
  for (const crash of report.crashes) {
    const dir = join(root, '.tmp/fuzz-crashes');
    mkdirSync(dir, { recursive: true });
    if (crash.sha1 !== '')
      writeFileSync(join(dir, `${crash.target}-${crash.sha1}.bin`), Buffer.from(crash.input, 'base64'));
    console.log(
      `  ${crash.kind}: ${crash.message.split('\n')[0]} (input base64 ${crash.input.slice(0, 80)})`,
    );
  }
}
mkdirSync(dirname(reportPath), { recursive: true });
const summary = {
  started: started.toISOString(),
  node: process.version,
  seconds,
  seed,
  totals: {
    inputs: reports.reduce((n, r) => n + r.inputs, 0),
    crashes: reports.reduce((n, r) => n + r.crashes.length, 0),
  },
  targets: reports,
};
writeFileSync(reportPath, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`report: ${reportPath}`);
process.exit(summary.totals.crashes > 0 ? 1 : 0);
