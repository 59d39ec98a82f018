// Policy evaluation speed: median ns per evaluateTcpConnect for every seed policy, with a few
// identities. Run: node --import tsx bench/policy.bench.ts (prints and writes bench/results/policy.md).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicyFiles, type PodVars, type TcpConnectInput } from '@podgate/policy';
import { conn, missing, pod } from '../packages/policy/src/test-support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seedDir = join(root, 'examples/seed');

// The same identities as the package's tests.
const identities: Record<string, PodVars> = {
  'allowed pod': pod(),
  'other namespace': pod({
    namespace: 'other',
    name: 'worker-c',
    annotations: { 'k8s.ngrok.com/environment': 'staging' },
  }),
  'no identity (28001)': missing,
};

const BATCH = 1000;
const SAMPLES = 300;

/** Median over SAMPLES batches of BATCH evaluations, after a warm-up. */
function measure(evaluate: (i: TcpConnectInput) => unknown, input: TcpConnectInput): number {
  for (let i = 0; i < 50_000; i++) evaluate(input);
  const perEval: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) evaluate(input);
    perEval.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  perEval.sort((a, b) => a - b);
  return perEval[Math.floor(perEval.length / 2)]!;
}

const rows: string[] = [];
let worst = 0;
for (const file of readdirSync(seedDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  const result = loadPolicyFiles([{ path: file, text: readFileSync(join(seedDir, file), 'utf8') }]);
  if (!result.ok) throw new Error(`${file} does not load: ${result.errors.map((e) => e.message).join('; ')}`);
  const evaluate =
    result.config.endpoints[0]?.evaluateTcpConnect ?? result.config.policies[0]!.evaluateTcpConnect;
  for (const [who, identity] of Object.entries(identities)) {
    const input: TcpConnectInput = { conn, pod: identity };
    const decision = evaluate(input);
    const ns = measure(evaluate, input);
    worst = Math.max(worst, ns);
    const outcome = `${decision.action}${decision.rule ? ` (rule ${decision.rule.index + 1})` : ''}`;
    rows.push(`| ${file} | ${who} | ${outcome} | ${ns.toFixed(0)} |`);
  }
}

const table = [
  `Policy evaluation (evaluateTcpConnect), median of ${SAMPLES} batches of ${BATCH}, Node ${process.version}. Target: < 2,000 ns.`,
  '',
  '| policy | identity | decision | median ns |',
  '|---|---|---|---:|',
  ...rows,
  '',
  `Slowest median: ${worst.toFixed(0)} ns (${worst < 2000 ? 'within' : 'OVER'} the 2,000 ns target).`,
].join('\n');
console.log(table);
writeFileSync(join(root, 'bench/results/policy.md'), `${table}\n`);
