// The TCP proxy beside its baselines, all in one run on this machine, each proxy process
// pinned to core 0 (taskset), nginx (the upstream), Redis, wrk and the fixed-rate generator
// (its own process) on core 1:
// - new connections per second (wrk, `Connection: close`, 50 connections): a direct connection
//   to nginx, HAProxy in TCP mode with a source ACL, a bare Node.js `net` pipe, and
//   `podgate proxy` (its build, as production runs it: built-services.ts; identity lookup on
//   real Redis + the seed's fail-closed namespace policy, one JSON log line per connection),
//   with its default lookup sharing, with
//   `--lookup-share 0` (every connection its own lookup), and with V8's allocation-site
//   pretenuring left on (`node --allocation-site-pretenuring`: how it ran before the services
//   turned it off, runtime's heap-tuning.ts);
// - added connect latency at a fixed 1,000 new connections per second (p50, p99): each proxy
//   beside a direct connection in the same run, interleaved;
// - bulk throughput over one keep-alive connection (a 256 MiB file, wrk -c1);
// - podgate's resident memory with 1,000 idle open connections.
// Needs nginx, haproxy, wrk and taskset (`apt-get install nginx haproxy wrk util-linux`).
// Run: npm run bench proxy [-- --seconds N --rounds N]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEEP_PRETENURING_FLAG } from '@podgate/runtime';
import { freePort } from '@podgate/test-support';
import { buildServices, builtServiceEnv } from './built-services.js';
import { cpuSplitMs, fixedRateLatencies, idleConnections, percentile, rssBytes, wrk } from './proxy/load.js';
import { BIG_FILE_BYTES, type Peer, startHaproxy, startNginx, startPinned, tempDir } from './proxy/peers.js';
import { benchConfig, startBenchRedis } from './proxy/store.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}
const SECONDS = argValue('--seconds', 5);
const ROUNDS = argValue('--rounds', 3);
const PROXY_CORE = 0;
const LOAD_CORE = 1;

buildServices();
/** The machine's processor, as /proc/cpuinfo names it: figures move with it. */
function cpuModel(): string {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  return /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? 'unknown CPU';
}
// Read before anything starts: what else the machine was doing.
const loadAtStart = loadavg();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const peers: Peer[] = [];
const { redis, priority: redisPriority } = await startBenchRedis(LOAD_CORE);
try {
  const [nginxPort, haproxyPort, pipePort, podgatePort, podgateAlonePort, podgatePretenurePort] =
    await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
  const dir = tempDir('proxy');
  const configFile = join(dir, 'podgate.yaml');
  writeFileSync(configFile, benchConfig(nginxPort!));
  const podgate = (port: number, share: string, nodeFlags: string[] = []) =>
    startPinned(
      PROXY_CORE,
      [
        process.execPath,
        ...nodeFlags,
        join(root, 'packages/cli/bin/podgate.js'),
        'proxy',
        '--config',
        configFile,
        '--bind',
        `http://web.payments=127.0.0.1:${port}`,
        '--redis',
        redis.url,
        '--cluster',
        'bench',
        '--listen',
        '127.0.0.1:0',
        '--lookup-share',
        share,
        '--max-connections',
        '50000',
      ],
      port,
      builtServiceEnv(),
    );
  peers.push(await startNginx(LOAD_CORE, nginxPort!));
  const haproxy = await startHaproxy(PROXY_CORE, haproxyPort!, nginxPort!);
  peers.push(haproxy);
  const pipe = await startPinned(
    PROXY_CORE,
    [process.execPath, join(here, 'proxy/bare-pipe.mjs'), String(pipePort), String(nginxPort)],
    pipePort!,
  );
  peers.push(pipe);
  const podgateShared = await podgate(podgatePort!, '2ms');
  const podgateAlone = await podgate(podgateAlonePort!, '0');
  // V8's default, which the service turns off: the same run shows what that buys (docs/proxy.md).
  const podgatePretenure = await podgate(podgatePretenurePort!, '2ms', [KEEP_PRETENURING_FLAG]);
  peers.push(podgateShared, podgateAlone, podgatePretenure);

  const targets = [
    { name: 'direct to nginx', port: nginxPort!, pid: 0 },
    { name: 'HAProxy 2.6, TCP mode, source ACL', port: haproxyPort!, pid: haproxy.pid },
    { name: 'bare Node.js net pipe', port: pipePort!, pid: pipe.pid },
    { name: 'podgate proxy (lookup + policy + log line)', port: podgatePort!, pid: podgateShared.pid },
    { name: 'podgate proxy, --lookup-share 0', port: podgateAlonePort!, pid: podgateAlone.pid },
    {
      name: `podgate proxy, node ${KEEP_PRETENURING_FLAG} (V8's default)`,
      port: podgatePretenurePort!,
      pid: podgatePretenure.pid,
    },
  ];
  const url = (port: number, path = '/') => `http://127.0.0.1:${port}${path}`;

  // Warm-up (JIT, connections), then alternating rounds.
  for (const t of targets) await wrk(LOAD_CORE, url(t.port), { connections: 50, seconds: 1, close: true });
  const rates = targets.map(() => [] as number[]);
  // CPU time of the proxy process per connection, from /proc: independent of how busy the
  // load generator's core is.
  // Split into user (the proxy's own code, the runtime) and system (the kernel's TCP work).
  const cpuPerConn = targets.map(() => [] as number[]);
  const userPerConn = targets.map(() => [] as number[]);
  const errors = targets.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, t] of targets.entries()) {
      const before = t.pid > 0 ? await cpuSplitMs(t.pid) : { user: 0, sys: 0 };
      const r = await wrk(LOAD_CORE, url(t.port), { connections: 50, seconds: SECONDS, close: true });
      const after = t.pid > 0 ? await cpuSplitMs(t.pid) : { user: 0, sys: 0 };
      rates[k]!.push(r.requestsPerSec);
      if (t.pid > 0) {
        const conns = r.requestsPerSec * SECONDS;
        const user = after.user - before.user;
        const sys = after.sys - before.sys;
        cpuPerConn[k]!.push(((user + sys) * 1000) / conns);
        userPerConn[k]!.push((user * 1000) / conns);
      }
      errors[k]! += r.errors;
    }
  }
  const rate = rates.map(median);
  const cpuUs = cpuPerConn.map((xs) => (xs.length > 0 ? median(xs) : 0));
  const userUs = userPerConn.map((xs) => (xs.length > 0 ? median(xs) : 0));

  // Added connect latency at a fixed 1,000 new connections per second. Each proxy is measured
  // beside a direct connection to nginx at the same time, 1,000/s each, interleaved (one run of
  // the generator): both see the same moments of this shared machine, so a stall that lands in
  // that run lands on both, and the added figure is the proxy's p50 or p99 minus the direct
  // one of the same run. Proxies one after another, in alternating rounds like the rates; each
  // figure is the median over the rounds.
  const proxied = [podgatePort!, pipePort!, podgateAlonePort!, podgatePretenurePort!];
  type Pair = { p50: number; p99: number; directP50: number; directP99: number; failures: number };
  const pairRounds = proxied.map(() => [] as Pair[]);
  let directFailures = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, port] of proxied.entries()) {
      const [direct, via] = await fixedRateLatencies(LOAD_CORE, [nginxPort!, port], 1000, SECONDS);
      directFailures += direct!.failures;
      pairRounds[k]!.push({
        p50: percentile(via!.samples, 50),
        p99: percentile(via!.samples, 99),
        directP50: percentile(direct!.samples, 50),
        directP99: percentile(direct!.samples, 99),
        failures: via!.failures,
      });
    }
  }
  type Latency = {
    /** Medians over the rounds of the proxy's figure minus the direct one of the same run. */
    addedP50: number;
    addedP99: number;
    p99s: number[];
    directP99s: number[];
    failures: number;
  };
  const [viaPodgate, viaPipe, viaAlone, viaPretenure] = pairRounds.map((rounds) => ({
    addedP50: median(rounds.map((r) => r.p50 - r.directP50)),
    addedP99: median(rounds.map((r) => r.p99 - r.directP99)),
    p99s: rounds.map((r) => r.p99),
    directP99s: rounds.map((r) => r.directP99),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
  })) as [Latency, Latency, Latency, Latency];
  const allPairs = pairRounds.flat();
  const direct = {
    p50: median(allPairs.map((r) => r.directP50)),
    p99: median(allPairs.map((r) => r.directP99)),
    failures: directFailures,
  };

  // Bulk: one keep-alive connection downloading 256 MiB over and over.
  const bulk = async (port: number) =>
    (await wrk(LOAD_CORE, url(port, '/big'), { connections: 1, seconds: SECONDS, close: false }))
      .transferBytesPerSec;
  const bulkRates = { direct: 0, haproxy: 0, pipe: 0, podgate: 0 };
  bulkRates.direct = await bulk(nginxPort!);
  bulkRates.haproxy = await bulk(haproxyPort!);
  bulkRates.pipe = await bulk(pipePort!);
  bulkRates.podgate = await bulk(podgatePort!);

  // Memory with 1,000 idle connections open through podgate.
  const rssIdleBefore = await rssBytes(podgateShared.pid);
  const idle = await idleConnections(podgatePort!, 1000);
  await new Promise((r) => setTimeout(r, 500));
  const rssWithIdle = await rssBytes(podgateShared.pid);
  for (const s of idle) s.destroy();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const [rDirect, rHaproxy, rPipe, rPodgate, rAlone, rPretenure] = rate as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const figures = {
    load_average_at_start: Number(loadAtStart[0]!.toFixed(1)),
    connections_per_sec: {
      direct: rDirect,
      haproxy: rHaproxy,
      bare_pipe: rPipe,
      podgate: rPodgate,
      podgate_no_share: rAlone,
      podgate_v8_pretenuring: rPretenure,
    },
    podgate_vs_bare_pipe: rPodgate / rPipe,
    podgate_vs_haproxy: rPodgate / rHaproxy,
    podgate_no_share_vs_bare_pipe: rAlone / rPipe,
    podgate_no_share_vs_haproxy: rAlone / rHaproxy,
    podgate_v8_pretenuring_vs_bare_pipe: rPretenure / rPipe,
    podgate_v8_pretenuring_vs_haproxy: rPretenure / rHaproxy,
    added_latency_ms_at_1000_per_sec: {
      p50: viaPodgate.addedP50,
      p99: viaPodgate.addedP99,
      no_share_p50: viaAlone.addedP50,
      no_share_p99: viaAlone.addedP99,
      v8_pretenuring_p50: viaPretenure.addedP50,
      v8_pretenuring_p99: viaPretenure.addedP99,
      unanswered: {
        direct: direct.failures,
        podgate: viaPodgate.failures,
        podgate_no_share: viaAlone.failures,
        podgate_v8_pretenuring: viaPretenure.failures,
        bare_pipe: viaPipe.failures,
      },
      bare_pipe_p50: viaPipe.addedP50,
      bare_pipe_p99: viaPipe.addedP99,
    },
    bulk_bytes_per_sec: bulkRates,
    bulk_podgate_vs_bare_pipe: bulkRates.podgate / bulkRates.pipe,
    bulk_podgate_vs_haproxy: bulkRates.podgate / bulkRates.haproxy,
    podgate_rss_bytes: { idle: rssIdleBefore, with_1000_idle_connections: rssWithIdle },
    cpu_us_per_connection: Object.fromEntries(
      targets.filter((t) => t.pid > 0).map((t) => [t.name, cpuUs[targets.indexOf(t)]]),
    ),
    user_cpu_us_per_connection: Object.fromEntries(
      targets.filter((t) => t.pid > 0).map((t) => [t.name, userUs[targets.indexOf(t)]]),
    ),
    wrk_errors: Object.fromEntries(targets.map((t, k) => [t.name, errors[k]])),
  };
  const met = (ok: boolean) => (ok ? 'met' : 'missed');
  const lines = [
    `The TCP proxy beside its baselines, one run, Node ${process.version}, ${cpuModel()}, ${new Date().toISOString()}: podgate runs its build, as production does; each proxy pinned to core ${PROXY_CORE}; nginx, wrk, the latency generator and Redis (${redisPriority}) on core ${LOAD_CORE}. Medians of ${ROUNDS} alternating rounds of ${SECONDS} s. Load average (1 / 5 / 15 min, 2 cores): ${loadAtStart.map((l) => l.toFixed(1)).join(' / ')} at the start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} at the end: other work on the machine shows in every figure, most in the p99s.`,
    '',
    '| new connections per second (wrk -c50, Connection: close) | rate | vs bare pipe | vs HAProxy | proxy CPU per connection | of which user |',
    '|---|---:|---:|---:|---:|---:|',
    ...targets.map(
      (t, k) =>
        `| ${t.name} | ${fmt(rate[k]!)} | ${(rate[k]! / rPipe).toFixed(2)} | ${(rate[k]! / rHaproxy).toFixed(2)} | ${t.pid > 0 ? `${cpuUs[k]!.toFixed(0)} us` : ''} | ${t.pid > 0 ? `${userUs[k]!.toFixed(0)} us` : ''} |`,
    ),
    '',
    '| figure | measured | target | |',
    '|---|---:|---:|:---:|',
    `| podgate vs bare pipe, connections/s | ${figures.podgate_vs_bare_pipe.toFixed(2)} | >= 0.9 | ${met(figures.podgate_vs_bare_pipe >= 0.9)} |`,
    `| podgate vs HAProxy, connections/s | ${figures.podgate_vs_haproxy.toFixed(2)} | >= 0.5 | ${met(figures.podgate_vs_haproxy >= 0.5)} |`,
    `| the same, --lookup-share 0, vs bare pipe | ${figures.podgate_no_share_vs_bare_pipe.toFixed(2)} | | |`,
    `| the same, --lookup-share 0, vs HAProxy | ${figures.podgate_no_share_vs_haproxy.toFixed(2)} | | |`,
    `| added connect latency at 1,000/s, p50 | ${ms(figures.added_latency_ms_at_1000_per_sec.p50)} | | |`,
    `| added connect latency at 1,000/s, p99 | ${ms(figures.added_latency_ms_at_1000_per_sec.p99)} | < 2 ms | ${met(figures.added_latency_ms_at_1000_per_sec.p99 < 2)} |`,
    `| the same, --lookup-share 0, p50 / p99 | ${ms(figures.added_latency_ms_at_1000_per_sec.no_share_p50)} / ${ms(figures.added_latency_ms_at_1000_per_sec.no_share_p99)} | | |`,
    `| the same, node ${KEEP_PRETENURING_FLAG} (V8's default): vs bare pipe, vs HAProxy, added p50 / p99 | ${figures.podgate_v8_pretenuring_vs_bare_pipe.toFixed(2)}, ${figures.podgate_v8_pretenuring_vs_haproxy.toFixed(2)}, ${ms(figures.added_latency_ms_at_1000_per_sec.v8_pretenuring_p50)} / ${ms(figures.added_latency_ms_at_1000_per_sec.v8_pretenuring_p99)} | | |`,
    `| bare pipe's added latency, p50 / p99 | ${ms(figures.added_latency_ms_at_1000_per_sec.bare_pipe_p50)} / ${ms(figures.added_latency_ms_at_1000_per_sec.bare_pipe_p99)} | | |`,
    `| bulk, one connection: podgate vs bare pipe | ${figures.bulk_podgate_vs_bare_pipe.toFixed(2)} (${mb(bulkRates.podgate)}/s vs ${mb(bulkRates.pipe)}/s) | >= 0.9 | ${met(figures.bulk_podgate_vs_bare_pipe >= 0.9)} |`,
    `| bulk: podgate vs HAProxy (${mb(bulkRates.haproxy)}/s), direct ${mb(bulkRates.direct)}/s | ${figures.bulk_podgate_vs_haproxy.toFixed(2)} | | |`,
    `| podgate RSS idle / with 1,000 idle connections | ${mb(rssIdleBefore)} / ${mb(rssWithIdle)} | | |`,
    `| CPU per connection: podgate vs bare pipe / vs HAProxy (lower is better) | ${(cpuUs[3]! / cpuUs[2]!).toFixed(2)} / ${(cpuUs[3]! / cpuUs[1]!).toFixed(2)} | | |`,
    '',
    `Added latency at 1,000/s: each proxy beside a direct connection to nginx in the same run (1,000/s each, interleaved), the proxy's p50 or p99 minus the direct one of that run, median of ${ROUNDS} rounds of ${1000 * SECONDS} connections each. Direct over all those runs: p50 ${ms(direct.p50)}, p99 ${ms(direct.p99)}. The rounds' p99s, proxy/direct of the same run (podgate, bare pipe, --lookup-share 0, V8's pretenuring on): ${[viaPodgate, viaPipe, viaAlone, viaPretenure].map((l) => l.p99s.map((x, i) => `${x.toFixed(2)}/${l.directP99s[i]!.toFixed(2)}`).join(' ')).join(', ')} ms. Connections of the latency runs closed unanswered (of ${1000 * SECONDS * ROUNDS} each; direct: of ${1000 * SECONDS * ROUNDS * 4}): ${JSON.stringify(figures.added_latency_ms_at_1000_per_sec.unanswered)}. The bulk file is ${mb(BIG_FILE_BYTES)}, served by nginx with sendfile. wrk socket errors and non-2xx answers: ${JSON.stringify(figures.wrk_errors)}.`,
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  console.log(JSON.stringify(figures));
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'proxy.md'), text);
} finally {
  await Promise.all(peers.map((p) => p.stop()));
  await redis.stop();
}
