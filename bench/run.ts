// `npm run bench [part...]`: runs each benchmark in its own process, one after another
// (they share a 2-core machine; running them together would measure each other).
// Every part prints a markdown table and writes it to bench/results/<part>.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
// Benchmarks run the sources, and so do the processes they start (docs/adr/0008).
const sourceEnv = {
  ...process.env,
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--conditions=podgate-source'].filter(Boolean).join(' '),
};
let failed = 0;
for (const part of wanted.length > 0 ? wanted : available) {
  console.log(`\n## ${part}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${part}.bench.ts`)], {
    stdio: 'inherit',
    env: sourceEnv,
  });
  if (run.status !== 0) {
    console.error(`benchmark ${part} failed (exit ${run.status ?? run.signal})`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
