// The coverage-guided fuzzer (harness.ts) on every target for a few seconds each, as part of
// `npm test`: seeded (FUZZ_SEED, default 1), FUZZ_TEST_SECONDS per target (default 5). Every
// crash it finds fails the test, with the input (base64) in the message and under
// .tmp/fuzz-crashes/. Longer runs: `FUZZ_SECONDS=600 npm run fuzz` (docs/reliability-fuzz.md).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TargetReport } from './harness.js';
import { TARGETS } from './targets/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const report = join(root, '.tmp/fuzz-report.json');
const seconds = process.env.FUZZ_TEST_SECONDS ?? '5';

let reports: TargetReport[] = [];
let output = '';

beforeAll(async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/fuzz/run.ts')], {
    cwd: root,
    env: { ...process.env, FUZZ_SECONDS: seconds, FUZZ_REPORT: report },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  await new Promise((r) => child.once('close', r));
  reports = (JSON.parse(readFileSync(report, 'utf8')) as { targets: TargetReport[] }).targets;
}, 180_000);

describe('coverage-guided fuzzing', () => {
  it.each(Object.keys(TARGETS))('%s: no crash, and the fuzzer got past the seeds', (name) => {
    const r = reports.find((t) => t.target === name);
    expect(r, output).toBeDefined();
    expect(r!.crashes, output).toEqual([]);
    expect(r!.inputs).toBeGreaterThan(10);
    // On a loaded machine a few seconds may be a few dozen inputs; past 500 new blocks must show.
    if (r!.inputs >= 500) expect(r!.features).toBeGreaterThan(r!.seedFeatures);
  });
});
