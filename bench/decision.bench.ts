// The decision service under a real load generator: `podgate decision` as its own process,
// its build as production runs it (built-services.ts), pinned to core 0, against a real
// redis-server holding 10,000 identities, wrk and redis-server pinned to core 1 (redis-server at
// real-time priority: pin-redis.ts), so nothing
// else the bench starts competes for the server's core; 50 keep-alive connections, measuring in the same run, round after round:
//   - a bare node:http server on the same core answering the same bytes (the floor: what any
//     Node.js answer costs here, and the p99 of a server that does nothing);
//   - GET /healthz of the same server (the baseline: HTTP and Hono, no lookup, no policy);
//   - POST /v1/decisions, a different client IP each request (one lookup + the seed policy);
//   - GET /v1/forward-auth as nginx calls it (X-Forwarded-For from a trusted peer, a bearer
//     token, the endpoint in a header).
// Targets: decisions/s at least 0.6x the /healthz rate, p99 under 5 ms. The service logs its
// one line per decision (the default --log-level info) to /dev/null. The last line printed is
// the figures as one JSON object.
// Run: node --import tsx bench/decision.bench.ts [--seconds N] [--rounds N] [--connections N] [--v8-pretenuring]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRedisIdentityStore, type PodRecord } from '@podgate/identity';
import { KEEP_PRETENURING_FLAG } from '@podgate/runtime';
import { freePort, startRedis } from '@podgate/test-support';
import { buildServices, builtServiceEnv } from './built-services.js';
import { pinRedis } from './pin-redis.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const SECONDS = argValue('--seconds', 8);
const ROUNDS = argValue('--rounds', 3);
const CONNECTIONS = argValue('--connections', 50);
const RECORDS = 10_000;
// V8's allocation-site pretenuring, which the service turns off (runtime's heap-tuning.ts), left
// on: to measure what turning it off buys, in alternating runs.
const NODE_FLAGS = process.argv.includes('--v8-pretenuring') ? [KEEP_PRETENURING_FLAG] : [];
const CLUSTER = 'bench';
const TOKEN = 'bench-token-0123456789abcdef';
const ENDPOINT = 'tcp://ledger.payments:5432';

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function podRecord(i: number): PodRecord {
  return {
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `worker-${i}`,
    namespace: 'payments',
    annotations: { 'k8s.ngrok.com/environment': 'production' },
    errorCode: '',
    errorMessage: '',
    ips: [ipOf(i)],
    resourceVersion: String(1000 + i),
  };
}

/** wrk's Lua: a new client IP each request, cycling through the stored identities. */
function luaScript(kind: 'decisions' | 'forward-auth'): string {
  // LuaJIT (wrk's Lua) has no bit operators: arithmetic instead.
  const ip = `string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)`;
  const next = `n = (n + 1) % ${RECORDS}`;
  if (kind === 'decisions') {
    return `n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer ${TOKEN}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{"endpoint":"${ENDPOINT}","client_ip":"%s"}', ${ip})
  ${next}
  return wrk.format(nil, "/v1/decisions", nil, body)
end
`;
  }
  // wrk.format uses the headers it is given instead of wrk.headers: all of them here.
  return `n = 0
request = function()
  local headers = {
    ["Host"] = "podgate",
    ["Authorization"] = "Bearer ${TOKEN}",
    ["X-Podgate-Endpoint"] = "${ENDPOINT}",
    ["X-Forwarded-For"] = ${ip},
  }
  ${next}
  return wrk.format("GET", "/v1/forward-auth", headers, nil)
end
`;
}

/**
 * A node:http server with no framework, answering what /healthz answers: what any Node.js HTTP
 * answer costs on this machine, and the p99 a server that does nothing reaches here. On a
 * shared machine that p99 moves with other work; beside it, a route's p99 says how much of
 * its own the route adds.
 */
const BARE_SERVER = `const body = '{"status":"ok"}';
require('node:http')
  .createServer((q, s) => {
    s.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    s.end(body);
  })
  .listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));`;

async function startBareServer(port: number): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', process.execPath, '-e', BARE_SERVER, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bare node:http server exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

interface Load {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** wrk's own words for them (socket errors by kind, non-2xx count). */
  errorText: string;
  requests: number;
  /** The server process's CPU time (all threads) per request, in microseconds. */
  cpuUs: number;
}

/** utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux). */
const TICKS_PER_SECOND = 100;

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

function latencyMs(stdout: string, percentile: string): number {
  const m = new RegExp(`^\\s+${percentile}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout);
  if (m === null) throw new Error(`wrk printed no ${percentile}% latency:\n${stdout}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

async function wrk(url: string, serverPid: number, script?: string): Promise<Load> {
  const args = ['-c', '1', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency'];
  if (script !== undefined) args.push('-s', script);
  args.push(url);
  const before = cpuTicks(serverPid);
  const { stdout, stderr } = await run('taskset', args, { maxBuffer: 1 << 20 });
  const ticks = cpuTicks(serverPid) - before;
  // wrk reports a broken Lua script on stderr and goes on without it: never measure that.
  if (stderr.trim() !== '') throw new Error(`wrk: ${stderr.trim()}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (rps === null) throw new Error(`wrk printed no rate:\n${stdout}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const errors =
    (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  const requests = /(\d+) requests in/.exec(stdout);
  const cpuUs = requests === null ? Number.NaN : (ticks / TICKS_PER_SECOND / Number(requests[1])) * 1e6;
  return {
    rps: Number(rps[1]),
    p50Ms: latencyMs(stdout, '50'),
    p99Ms: latencyMs(stdout, '99'),
    errors,
    errorText: [socket?.[0], non2xx?.[0]].filter((x) => x !== undefined).join('; '),
    requests: requests === null ? 0 : Number(requests[1]),
    cpuUs,
  };
}

async function waitForHealth(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`podgate decision exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error('podgate decision did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function check(port: number): Promise<void> {
  const decided = await fetch(`http://127.0.0.1:${port}/v1/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: ENDPOINT, client_ip: ipOf(42) }),
  });
  const body = (await decided.json()) as { allowed?: boolean; identity?: { metadata?: { name?: string } } };
  if (!body.allowed || body.identity?.metadata?.name !== 'worker-42') {
    throw new Error(`unexpected decision: ${JSON.stringify(body)}`);
  }
  const gated = await fetch(`http://127.0.0.1:${port}/v1/forward-auth`, {
    headers: { authorization: `Bearer ${TOKEN}`, 'x-podgate-endpoint': ENDPOINT, 'x-forwarded-for': ipOf(7) },
  });
  if (gated.status !== 200 || gated.headers.get('x-podgate-pod-name') !== 'worker-7') {
    throw new Error(`unexpected forward-auth answer: ${gated.status}`);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const range = (xs: number[], digits = 0) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const f = (x: number) =>
    x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return lo === hi ? f(lo) : `${f(lo)}-${f(hi)}`;
};

async function main(): Promise<void> {
  buildServices();
  const loadAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'podgate-bench-decision-'));
  const redis = await startRedis();
  let server: ChildProcess | undefined;
  let bare: ChildProcess | undefined;
  try {
    const redisPriority = await pinRedis(redis.port, 1);
    const writer = await createRedisIdentityStore({ url: redis.url, keyPrefix: 'bench:' });
    await writer.reconcile(
      CLUSTER,
      Array.from({ length: RECORDS }, (_, i) => podRecord(i)),
    );
    await writer.heartbeat(CLUSTER, 3_600_000);
    await writer.close();
    writeFileSync(join(dir, 'tokens'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'decisions.lua'), luaScript('decisions'));
    writeFileSync(join(dir, 'forward-auth.lua'), luaScript('forward-auth'));
    const port = await freePort();
    server = spawn(
      'taskset',
      [
        ...[
          '-c',
          '0',
          process.execPath,
          ...NODE_FLAGS,
          join(root, 'packages/cli/bin/podgate.js'),
          'decision',
        ],
        ...['--config', join(root, 'examples/podgate.yaml'), '--token-file', join(dir, 'tokens')],
        ...['--redis', redis.url, '--key-prefix', 'bench:', '--cluster', CLUSTER],
        ...['--listen', `127.0.0.1:${port}`, '--trusted-proxies', '127.0.0.1'],
        // A lookup past its deadline is a fail-closed deny (403 from forward-auth): on a machine
        // busy with other work a 200 ms deadline was missed now and then, and this measures rates.
        ...['--lookup-timeout', '2s'],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: builtServiceEnv() },
    );
    await waitForHealth(port, server);
    await check(port);
    const barePort = await freePort();
    bare = await startBareServer(barePort);
    const base = `http://127.0.0.1:${port}`;
    // Warm-up: JIT, connection pools.
    const pid = server.pid!;
    await wrk(`${base}/v1/decisions`, pid, join(dir, 'decisions.lua'));

    const rounds: Array<{ bare: Load; healthz: Load; decisions: Load; forwardAuth: Load }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const bareLoad = await wrk(`http://127.0.0.1:${barePort}/`, bare.pid!);
      const healthz = await wrk(`${base}/healthz`, pid);
      const decisions = await wrk(`${base}/v1/decisions`, pid, join(dir, 'decisions.lua'));
      const forwardAuth = await wrk(`${base}/v1/forward-auth`, pid, join(dir, 'forward-auth.lua'));
      rounds.push({ bare: bareLoad, healthz, decisions, forwardAuth });
      console.error(
        `round ${r + 1}: bare node:http ${bareLoad.rps.toFixed(0)}/s (p99 ${bareLoad.p99Ms} ms), healthz ${healthz.rps.toFixed(0)}/s, decisions ${decisions.rps.toFixed(0)}/s (p99 ${decisions.p99Ms} ms), forward-auth ${forwardAuth.rps.toFixed(0)}/s (p99 ${forwardAuth.p99Ms} ms)`,
      );
    }
    // Every answer must be a 2xx. On a machine busy with other work, wrk's 2 s timeout can
    // catch a few requests still queued at the end of a run: reported, and tolerated up to
    // 1 in 1,000 of a measurement's requests; past that (or any error at all from a broken
    // server) the run is refused rather than measured.
    const each = rounds
      .map(
        (r) =>
          `${r.bare.errors}/${r.healthz.errors}/${r.decisions.errors}/${r.forwardAuth.errors} (${[r.bare, r.healthz, r.decisions, r.forwardAuth].map((l) => l.errorText || '-').join(' | ')})`,
      )
      .join(', ');
    const errors = rounds.reduce(
      (n, r) => n + r.bare.errors + r.healthz.errors + r.decisions.errors + r.forwardAuth.errors,
      0,
    );
    const tooMany = rounds.some((r) =>
      [r.bare, r.healthz, r.decisions, r.forwardAuth].some((l) => l.errors > l.requests / 1000),
    );
    if (tooMany) {
      throw new Error(
        `${errors} requests failed or were not 2xx (bare/healthz/decisions/forward-auth by round: ${each})`,
      );
    }

    type Measured = 'bare' | 'healthz' | 'decisions' | 'forwardAuth';
    const ratio = (which: Measured) => rounds.map((r) => r[which].rps / r.healthz.rps);
    const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
    const row = (name: string, which: Measured) => {
      const loads = rounds.map((r) => r[which]);
      const rps = loads.map((l) => l.rps);
      const p99 = loads.map((l) => l.p99Ms);
      const cpuUs = loads.map((l) => l.cpuUs);
      const ratios = which === 'healthz' ? null : ratio(which);
      // Capacity when the server's core is the limit: healthz CPU per request over this route's.
      const capacity = rounds.map((r) => r.healthz.cpuUs / r[which].cpuUs);
      const target =
        ratios === null
          ? 'baseline'
          : which === 'bare'
            ? 'floor: Node.js without a framework'
            : `${verdict(median(ratios) >= 0.6)} (>= 0.6x) / ${verdict(median(p99) < 5)} (p99 < 5 ms)`;
      return [
        name,
        `${range(rps)} (median ${Math.round(median(rps)).toLocaleString('en-US')})`,
        ratios === null ? '1.00' : `${range(ratios, 2)} (median ${median(ratios).toFixed(2)})`,
        range(
          loads.map((l) => l.p50Ms),
          2,
        ),
        range(p99, 2),
        range(cpuUs),
        which === 'healthz' ? '1.00' : range(capacity, 2),
        target,
      ].join(' | ');
    };
    const load = `load average ${loadAtStart.map((l) => l.toFixed(1)).join(' / ')} at the start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} at the end (1 / 5 / 15 min; 2 cores)`;
    const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
    const text = [
      `The decision service under wrk: ${CONNECTIONS} keep-alive connections, ${SECONDS} s per measurement, ${ROUNDS} rounds of /healthz, POST /v1/decisions and /v1/forward-auth one after another on the same server process (its build, as production runs it; pinned to core 0; wrk and redis-server on core 1, redis-server ${redisPriority}), against a redis-server holding ${RECORDS.toLocaleString('en-US')} identities, a new client IP each request, logging one line per decision${NODE_FLAGS.length > 0 ? `, server run with node ${NODE_FLAGS.join(' ')}` : ''}. Node ${process.version}, ${cpu}, ${new Date().toISOString()}, ${load}. Ranges are over the rounds; the ratio is each round's rate over that round's /healthz rate.`,
      '',
      '| route | requests/s | ratio to /healthz | p50 ms | p99 ms | server CPU µs/request | CPU ratio to /healthz | target |',
      '|---|---:|---:|---:|---:|---:|---:|:---|',
      `| ${row('bare node:http server, the same answer', 'bare')} |`,
      `| ${row('GET /healthz', 'healthz')} |`,
      `| ${row('POST /v1/decisions', 'decisions')} |`,
      `| ${row('GET /v1/forward-auth (X-Forwarded-For)', 'forwardAuth')} |`,
      '',
      "The bare node:http server is a process of its own on the same core (a dozen lines of `node:http`, no framework, no logging) answering the same 15 bytes: what an HTTP answer from Node.js costs on this machine, and the p99 of a server that does nothing; beside it, each route's p99 says how much the route adds to what the machine does to every answer. Its ratio column is its rate over /healthz's.",
      '',
      "Server CPU is the decision process's own time (all its threads, from /proc) per request answered; the CPU ratio is what the rate ratio would be if the server's core were the only limit (when /healthz is held back by the load generator or by other work on the machine, the rate ratio reads higher).",
      '',
      `Failed or non-2xx answers (bare/healthz/decisions/forward-auth by round): ${errors === 0 ? 'none' : each}.`,
      '',
      'Reproduce: `npm run bench decision` (or `node --import tsx bench/decision.bench.ts --seconds 8 --rounds 3`); needs redis-server, wrk and taskset.',
      '',
    ].join('\n');
    console.log(text);
    const figures = (which: Measured) => {
      const loads = rounds.map((r) => r[which]);
      return {
        rps_median: Math.round(median(loads.map((l) => l.rps))),
        ratio_to_healthz_median: which === 'healthz' ? 1 : Number(median(ratio(which)).toFixed(3)),
        p99_ms_median: median(loads.map((l) => l.p99Ms)),
        cpu_us_per_request_median: Number(median(loads.map((l) => l.cpuUs)).toFixed(1)),
      };
    };
    const decisions = figures('decisions');
    const forwardAuth = figures('forwardAuth');
    console.log(
      JSON.stringify({
        bench: 'decision',
        load_average_at_start: Number(loadAtStart[0]!.toFixed(1)),
        errors,
        connections: CONNECTIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        node_flags: NODE_FLAGS,
        bare_node_http: figures('bare'),
        healthz: figures('healthz'),
        decisions,
        forward_auth: forwardAuth,
        targets_met: {
          decisions_ratio: decisions.ratio_to_healthz_median >= 0.6,
          decisions_p99: decisions.p99_ms_median < 5,
          forward_auth_ratio: forwardAuth.ratio_to_healthz_median >= 0.6,
          forward_auth_p99: forwardAuth.p99_ms_median < 5,
        },
      }),
    );
    // The results file is the service as it ships; a run with other node flags is only printed.
    if (NODE_FLAGS.length === 0) {
      mkdirSync(join(here, 'results'), { recursive: true });
      writeFileSync(join(here, 'results', 'decision.md'), text);
    }
  } finally {
    if (bare && bare.exitCode === null) bare.kill('SIGTERM');
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
