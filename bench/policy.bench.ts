// Policy evaluation speed: median ns per evaluateTcpConnect for every seed policy, with a few
// identities. Run: node --import tsx bench/policy.bench.ts (prints and writes bench/results/policy.md).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicyFiles, type PodVars, type TcpConnectInput } from '@podgate/policy';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seedDir = join(root, 'examples/seed');

const base: PodVars = {
  id: '0b6f3e2a-1111-4222-8333-944455556666',
  name: 'worker-a',
  namespace: 'payments',
  annotations: { 'k8s.ngrok.com/environment': 'production' },
  cluster: 'east',
  errorCode: '',
  errorMessage: '',
};
const identities: Record<string, PodVars> = {
  'allowed pod': base,
  'other namespace': {
    ...base,
    namespace: 'other',
    name: 'worker-c',
    annotations: { 'k8s.ngrok.com/environment': 'staging' },
  },
  'no identity (28001)': {
    id: '',
    name: '',
    namespace: '',
    annotations: {},
    cluster: '',
    errorCode: 'ERR_NGROK_28001',
    errorMessage: 'Failed to retrieve pod identity metadata',
  },
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
  for (const [who, pod] of Object.entries(identities)) {
    const input: TcpConnectInput = {
      conn: {
        clientIp: '10.0.0.5',
        clientPort: 40000,
        serverIp: '10.0.0.1',
        serverPort: 80,
        startedAt: new Date(),
      },
      pod,
    };
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
