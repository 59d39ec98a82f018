// Watcher benchmark: 100,000 pods listed from a fake Kubernetes API (real HTTP, pages of
// 500) into a real redis-server, the watcher in a child process so its peak RSS can be
// measured; then the event-to-store latency of pod updates, polled from a reader.
// Targets: first complete sync < 15 s, RSS < 300 MB, event p99 < 50 ms. The watcher runs its
// build, as production does (built-services.ts): tsx and the sources would add their own memory
// to the peak RSS this measures.
// `node --import tsx bench/watcher.bench.ts [pods] [updates]`
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisIdentityStore } from '@podgate/identity';
import { type FakePod, startFakeK8sApi, startRedis } from '@podgate/test-support';
import { buildServices, builtServiceEnv } from './built-services.js';

const PODS = Number(process.argv[2] ?? 100_000);
const UPDATES = Number(process.argv[3] ?? 500);
/** Peak RSS under Node's defaults depends on GC timing, so it is measured several times. */
const DEFAULT_RUNS = Number(process.env.BENCH_DEFAULT_RUNS ?? 3);
const CLUSTER = 'bench';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** A pod about the size of a real one's list entry (~2 KB of JSON). */
function benchPod(i: number): FakePod {
  const app = `app-${i % 500}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-${i.toString(36)}-x7k2p`,
      namespace: `team-${i % 50}`,
      uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      labels: { app, 'pod-template-hash': '5d9f8c7b6', tier: i % 2 ? 'web' : 'worker' },
      annotations: {
        'k8s.ngrok.com/tenant-id': `tenant-${i % 1000}`,
        'k8s.ngrok.com/environment': 'production',
        'kubectl.kubernetes.io/restartedAt': '2026-11-20T10:00:00Z',
      },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-5d9f8c7b6`, uid: 'rs', controller: true },
      ],
      creationTimestamp: '2026-11-20T10:00:00Z',
    },
    spec: {
      nodeName: `node-${i % 300}`,
      serviceAccountName: 'default',
      containers: [
        {
          name: 'app',
          image: `registry.example.com/${app}:1.2.3`,
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          volumeMounts: [
            { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
          ],
        },
      ],
      volumes: [
        { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: `192.168.${(i % 300) >> 8}.${i % 256}`,
      podIP: ipOf(i),
      podIPs: [{ ip: ipOf(i) }],
      startTime: '2026-11-20T10:00:01Z',
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'PodScheduled', status: 'True' },
      ],
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          restartCount: 0,
          image: `registry.example.com/${app}:1.2.3`,
          started: true,
        },
      ],
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** The heap flags infra/kubernetes/base/watcher.yaml sets (NODE_OPTIONS). */
const DEPLOYMENT_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=256';

interface Run {
  syncMs: number;
  listMs: number;
  reconcileMs: number;
  rssMb: number;
  latencies: number[];
  exitCode: number | null;
}

async function runOnce(nodeOptions: string, updates: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'watcher-bench-'));
  const redis = await startRedis();
  const api = await startFakeK8sApi({ historyLimit: 10_000 });
  const kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
  const seedStart = performance.now();
  api.seedPods(Array.from({ length: PODS }, (_, i) => benchPod(i)));
  console.error(`seeded ${PODS} pods in ${Math.round(performance.now() - seedStart)} ms`);
  const reader = await createRedisIdentityStore({ url: redis.url, freshnessRefreshMs: 10 });

  const script = [
    "import { runWatcherCommand } from '@podgate/cli';",
    'const stop = new Promise((r) => process.once("SIGTERM", r));',
    'const code = await runWatcherCommand(process.argv.slice(1), process.env, { stopSignal: stop });',
    'process.stderr.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + "\\n");',
    'process.exitCode = code;',
  ].join('\n');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      '--',
      '--cluster',
      CLUSTER,
      '--kubeconfig',
      kubeconfig,
      '--redis',
      redis.url,
      '--listen',
      '127.0.0.1:0',
      '--heartbeat-interval',
      '1s',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The build: no tsx, no source export condition (@podgate/cli resolves to its dist).
      env: builtServiceEnv({ ...process.env, NODE_OPTIONS: nodeOptions }),
    },
  );
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    if (process.env.BENCH_DEBUG) process.stderr.write(d);
    buffered += d.toString();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      try {
        logs.push(JSON.parse(buffered.slice(0, nl)));
      } catch {
        // not a log line
      }
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  // First complete sync: the last pod readable from Redis with a fresh heartbeat.
  const probes = [0, Math.floor(PODS / 2), PODS - 1].map(ipOf);
  let syncMs = Number.NaN;
  for (
    const deadline = Date.now() + Number(process.env.BENCH_SYNC_DEADLINE_MS ?? 120_000);
    Date.now() < deadline;
  ) {
    const results = await Promise.all(probes.map((ip) => reader.lookup(ip, [CLUSTER])));
    if (results.every((r) => r.ok)) {
      syncMs = performance.now() - started;
      break;
    }
    if (child.exitCode !== null) throw new Error(`watcher exited: ${stderr}`);
    await sleep(20);
  }
  if (Number.isNaN(syncMs)) {
    const last = await Promise.all(probes.map((ip) => reader.lookup(ip, [CLUSTER])));
    child.kill('SIGTERM');
    throw new Error(
      `no complete sync within 120 s: ${JSON.stringify(last)}\n${JSON.stringify(logs.slice(-5))}\n${stderr}`,
    );
  }
  const listed = logs.find((l) => l.msg === 'listed pods');
  const reconciled = logs.find((l) => l.msg === 'store reconciled with complete listing');

  // Event to store: move pod i to a fresh IP, poll until a reader sees it there.
  await sleep(500);
  const latencies: number[] = [];
  for (let n = 0; n < updates; n++) {
    const i = (n * 197) % PODS;
    const pod = benchPod(i);
    const newIp = `172.16.${n >> 8}.${n & 255}`;
    const t0 = performance.now();
    api.updatePod(pod.metadata.namespace, pod.metadata.name, (p) => {
      p.status = { ...p.status, podIP: newIp, podIPs: [{ ip: newIp }] };
    });
    for (;;) {
      const r = await reader.lookup(newIp, [CLUSTER]);
      if (r.ok) break;
      if (performance.now() - t0 > 5_000) throw new Error(`update ${n} not visible after 5 s`);
    }
    latencies.push(performance.now() - t0);
  }
  latencies.sort((a, b) => a - b);

  child.kill('SIGTERM');
  const code = await exited;
  const rss = /\{"maxRssKb":(\d+)\}/.exec(stderr);
  const rssMb = rss ? Number(rss[1]) / 1024 : Number.NaN;

  await reader.close();
  await api.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });

  return {
    syncMs,
    listMs: Number(listed?.ms),
    reconcileMs: Number(reconciled?.ms),
    rssMb,
    latencies,
    exitCode: code,
  };
}

async function main() {
  buildServices();
  if (process.env.BENCH_DEFAULTS_ONLY) {
    // Only the Node-defaults runs, printed (for investigating memory); no results file.
    for (let n = 0; n < DEFAULT_RUNS; n++) {
      const run = await runOnce(process.env.BENCH_DEFAULTS_NODE_OPTIONS ?? '', 0);
      console.log(
        `defaults run ${n + 1}: peak RSS ${run.rssMb.toFixed(0)} MB, sync ${run.syncMs.toFixed(0)} ms (list ${run.listMs} ms, reconcile ${run.reconcileMs} ms)`,
      );
    }
    return;
  }
  const shipped = await runOnce(process.env.BENCH_WATCHER_NODE_OPTIONS ?? DEPLOYMENT_NODE_OPTIONS, UPDATES);
  const defaults: Run[] = [];
  for (let n = 0; n < DEFAULT_RUNS; n++) {
    defaults.push(await runOnce(process.env.BENCH_DEFAULTS_NODE_OPTIONS ?? '', 0));
    console.error(`defaults run ${n + 1}: peak RSS ${defaults.at(-1)!.rssMb.toFixed(0)} MB`);
  }
  const latencies = shipped.latencies;
  const worstRss = Math.max(...defaults.map((d) => d.rssMb));
  const slowestSync = Math.max(...defaults.map((d) => d.syncMs));
  const ok = (value: number, target: number) => (value < target ? 'yes' : '**no**');
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rows = [
    ['pods', String(PODS), '', ''],
    ['start to first complete sync in Redis', s(shipped.syncMs), '< 15 s', ok(shipped.syncMs, 15_000)],
    ['  of which: list (pages of 500)', s(shipped.listMs), '', ''],
    ['  of which: store reconcile (identity store)', s(shipped.reconcileMs), '', ''],
    [
      'watcher peak RSS, Deployment NODE_OPTIONS',
      `${shipped.rssMb.toFixed(0)} MB`,
      '< 300 MB',
      ok(shipped.rssMb, 300),
    ],
    [
      `watcher peak RSS, Node defaults (no flags), worst of ${defaults.length}`,
      `${worstRss.toFixed(0)} MB (${defaults.map((d) => d.rssMb.toFixed(0)).join(', ')})`,
      '< 300 MB',
      ok(worstRss, 300),
    ],
    [
      '  sync with Node defaults, slowest',
      `${s(slowestSync)} (${defaults.map((d) => (d.syncMs / 1000).toFixed(1)).join(', ')})`,
      '< 15 s',
      ok(slowestSync, 15_000),
    ],
    [`event to store, p50 (${UPDATES} updates)`, `${pct(latencies, 50).toFixed(2)} ms`, '', ''],
    ['event to store, p99', `${pct(latencies, 99).toFixed(2)} ms`, '< 50 ms', ok(pct(latencies, 99), 50)],
    ['event to store, max', `${latencies[latencies.length - 1]!.toFixed(2)} ms`, '', ''],
    [
      'watcher exit code after SIGTERM',
      String(shipped.exitCode),
      '0',
      shipped.exitCode === 0 ? 'yes' : '**no**',
    ],
  ];
  const table = [
    '| watcher | measured | target | met |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; fake API (real HTTP) and redis-server on loopback, same machine.`,
    `Deployment NODE_OPTIONS: \`${DEPLOYMENT_NODE_OPTIONS}\` (infra/kubernetes/base/watcher.yaml). Peak RSS with Node's defaults varies run to run (GC timing), hence several runs.`,
    'Peak RSS: process.resourceUsage().maxRSS of the watcher child, reported at exit (the build, as production runs it: Node and the dependencies included).',
    'Event latency: from the fake API sending the MODIFIED event to a reader (RedisIdentityStore.lookup) seeing the new IP.',
  ].join('\n');
  console.log(table);
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'watcher.md'), `${table}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
