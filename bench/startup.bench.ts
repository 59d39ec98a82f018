// Start-up time and idle memory of `podgate proxy`, run both ways: its TypeScript sources
// through tsx (a checkout, `npm start`) and the compiled JavaScript (`npm run build`; the
// images), beside a bare Node.js HTTP server as the floor, on each Node.js given.
//   node --import tsx bench/startup.bench.ts [--runs N] [--node PATH ...]
// (`npm run bench startup`). Builds first (tsc -b, incremental). Writes bench/results/startup.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '@podgate/test-support';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, node: { type: 'string', multiple: true } },
});
const runs = Number(values.runs);
const nodes = values.node ?? [process.execPath];
/** How long the process sits idle after it is ready before its memory is read. */
const IDLE_MS = 3000;

const build = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli/tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (build.status !== 0) throw new Error('npm run build failed');

const work = mkdtempSync(join(tmpdir(), 'podgate-startup-'));
const config = join(work, 'podgate.yaml');
writeFileSync(
  config,
  readFileSync(join(root, 'infra/compose/podgate.yaml'), 'utf8').replace(
    'tcp://upstream:80',
    'tcp://127.0.0.1:9',
  ),
);

type Mode = 'bare node' | 'sources (tsx)' | 'compiled JS';
const MODES: Mode[] = ['bare node', 'sources (tsx)', 'compiled JS'];

function command(mode: Mode, admin: number, endpoint: number): { args: string[]; env: NodeJS.ProcessEnv } {
  // The environment of a shell, without what this benchmark runs under (tsx's loader).
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  if (mode === 'bare node') {
    const server = `require('node:http').createServer((q, s) => s.end()).listen(${admin}, '127.0.0.1')`;
    return { args: ['-e', server], env };
  }
  const args = [
    join(root, 'packages/cli/bin/podgate.js'),
    'proxy',
    '--config',
    config,
    '--bind',
    `tcp://demo.payments:8080=127.0.0.1:${endpoint}`,
    '--listen',
    `127.0.0.1:${admin}`,
    '--cluster',
    'bench',
    '--log-level',
    'warn',
  ];
  return { args, env: { ...env, PODGATE_RUN: mode === 'compiled JS' ? 'build' : 'source' } };
}

function ready(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** User + system CPU time of a process so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

interface Sample {
  startMs: number;
  cpuMs: number;
  rssMb: number;
}

async function once(node: string, mode: Mode): Promise<Sample> {
  const [admin, endpoint] = [await freePort(), await freePort()];
  const { args, env } = command(mode, admin, endpoint);
  const started = performance.now();
  const child = spawn(node, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  while (!(await ready(admin))) {
    if (!alive) throw new Error(`${mode} exited before it was ready: ${stderr}`);
    if (performance.now() - started > 30_000) throw new Error(`${mode} not ready in 30 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const startMs = performance.now() - started;
  const cpu = cpuMs(child.pid!);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const rssMb = rssKb(child.pid!) / 1024;
  child.kill('SIGTERM');
  await exited;
  return { startMs, cpuMs: cpu, rssMb };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const lines: string[] = [];
for (const node of nodes) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const results = new Map<Mode, Sample[]>(MODES.map((m) => [m, []]));
  // Interleaved, so a burst of load on the machine hits every mode alike.
  for (let r = 0; r < runs; r++) for (const mode of MODES) results.get(mode)!.push(await once(node, mode));
  const compiled = results.get('compiled JS')!;
  const sources = results.get('sources (tsx)')!;
  lines.push(
    `### Node.js ${version}`,
    '',
    '| run | start-up to /readyz 200, ms | CPU time until then, ms | idle RSS, MB |',
    '|---|---:|---:|---:|',
  );
  for (const mode of MODES) {
    const rs = results.get(mode)!;
    const cell = (f: (x: Sample) => number, digits = 0) => {
      const xs = rs.map(f);
      return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
    };
    lines.push(
      `| ${mode} | ${cell((x) => x.startMs)} | ${cell((x) => x.cpuMs)} | ${cell((x) => x.rssMb, 1)} |`,
    );
  }
  const ratio = (f: (x: Sample) => number) => (median(compiled.map(f)) / median(sources.map(f))).toFixed(2);
  lines.push(
    '',
    `Compiled JS / sources (medians): start-up ${ratio((x) => x.startMs)}x, CPU time ${ratio((x) => x.cpuMs)}x, idle RSS ${ratio((x) => x.rssMb)}x.`,
    '',
  );
}
rmSync(work, { recursive: true, force: true });

const table = [
  `\`podgate proxy\` start-up and idle memory, ${runs} runs per row (interleaved), median (min-max). Start-up: wall time from spawn to the first 200 from /readyz (polled every 5 ms; the embedded store, one endpoint); on a loaded machine it varies with the load, the CPU time the process used until then (user + system, /proc/PID/stat, 10 ms ticks) much less. Idle RSS: VmRSS ${IDLE_MS / 1000} s after that. "bare node" is \`node -e\` with an HTTP server, the floor. Machine: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end of the run. Reproduce: \`npm run bench startup\` (add \`-- --node PATH\` per Node.js binary).`,
  '',
  ...lines,
].join('\n');
console.log(table);
writeFileSync(join(root, 'bench/results/startup.md'), `${table}\n`);
