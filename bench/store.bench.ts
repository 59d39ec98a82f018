// Identity lookup rate through RedisIdentityStore versus redis-benchmark's GET rate, on one
// redis-server started here, at 1 and 50 concurrent callers. Target: ratio >= 0.5.
// Run: node --import tsx bench/store.bench.ts [--records N] [--lookups N]
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRedisIdentityStore, type PodRecord, type RedisIdentityStore } from '@podgate/identity';
import { startRedis } from '../test/support/redis.js';

const execFileAsync = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const RECORDS = argValue('--records', 10_000);
const LOOKUPS = argValue('--lookups', 100_000);
const CLUSTER = 'bench';

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function podRecord(i: number): PodRecord {
  return {
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `worker-${i}`,
    namespace: `tenant-${i % 50}`,
    annotations: { 'k8s.ngrok.com/environment': 'production', 'k8s.ngrok.com/tenant-id': `tenant-${i % 50}` },
    errorCode: '',
    errorMessage: '',
    ips: [ipOf(i)],
    resourceVersion: String(1000 + i),
  };
}

/** Lookups per second with `callers` concurrent loops of sequential awaits. */
async function measureStore(store: RedisIdentityStore, callers: number, total: number): Promise<number> {
  let next = 0;
  let failures = 0;
  const loop = async () => {
    while (next < total) {
      const i = next++;
      const result = await store.lookup(ipOf(i % RECORDS), [CLUSTER]);
      if (!result.ok) failures++;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: callers }, loop));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (failures > 0) throw new Error(`${failures} of ${total} lookups failed`);
  return total / seconds;
}

/** redis-benchmark's GET requests per second (its --csv output: "test","rps",...). */
async function measureRedisBenchmark(port: number, clients: number, total: number): Promise<number> {
  const { stdout } = await execFileAsync('redis-benchmark', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-t',
    'get',
    '-n',
    String(total),
    '-c',
    String(clients),
    '--csv',
  ]);
  const row = stdout
    .split('\n')
    .map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')))
    .find((cells) => cells[0] === 'GET');
  const rps = Number(row?.[1]);
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`cannot read redis-benchmark output: ${stdout}`);
  return rps;
}

const redis = await startRedis();
let store: RedisIdentityStore | undefined;
try {
  store = await createRedisIdentityStore({ url: redis.url, clusters: [CLUSTER] });
  await store.heartbeat(CLUSTER, 600_000);
  await store.refreshFreshness();
  const loadStarted = performance.now();
  const records = Array.from({ length: RECORDS }, (_, i) => podRecord(i));
  await store.reconcile(CLUSTER, records);
  const loadMs = performance.now() - loadStarted;

  await measureStore(store, 50, Math.min(LOOKUPS, 20_000)); // warm-up: JIT, scripts, connection
  // Alternating rounds, median of each: the machine is shared and noisy.
  const ROUNDS = 3;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: Array<{ callers: number; store: number; redis: number }> = [];
  for (const callers of [1, 50]) {
    const total = callers === 1 ? Math.ceil(LOOKUPS / 4) : LOOKUPS;
    const storeRates: number[] = [];
    const redisRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      storeRates.push(await measureStore(store, callers, total));
      redisRates.push(await measureRedisBenchmark(redis.port, callers, total));
    }
    rows.push({ callers, store: median(storeRates), redis: median(redisRates) });
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `Identity lookups through RedisIdentityStore (one HGETALL each) vs \`redis-benchmark -t get\`, same redis-server, median of 3 alternating rounds, ${RECORDS.toLocaleString('en-US')} records (loaded by reconcile in ${Math.round(loadMs)} ms), Node ${process.version}, ${new Date().toISOString()}.`,
    '',
    '| callers | store lookups/s | redis-benchmark GET/s | ratio | target >= 0.5 |',
    '|---:|---:|---:|---:|:---:|',
    ...rows.map(
      (r) =>
        `| ${r.callers} | ${fmt(r.store)} | ${fmt(r.redis)} | ${(r.store / r.redis).toFixed(2)} | ${r.store / r.redis >= 0.5 ? 'met' : 'missed'} |`,
    ),
    '',
  ];
  const table = lines.join('\n');
  console.log(table);
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'store.md'), table);
} finally {
  await store?.close();
  await redis.stop();
}
