// Identity lookup rate through RedisIdentityStore versus redis-benchmark's GET rate, on one
// redis-server started here, at 1 and 50 concurrent callers. Target: ratio >= 0.5.
// Also measured in the same run, to show where the time goes: a bare ioredis HGET of the IP
// index, the store's own pipelined RESP2 connection doing that bare HGET and then the bare
// LOOKUP script (which checks the pod entry too, ADR 0002), and the store with its lookups on
// ioredis (`dedicatedLookupConnection: false`, what it did before ADR 0004).
// Every variant runs once per round, rounds alternate, and each figure is a median.
// Run: node --import tsx bench/store.bench.ts [--records N] [--lookups N] [--rounds N]
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRedisIdentityStore, type PodRecord, type RedisIdentityStore } from '@podgate/identity';
import { startRedis } from '@podgate/test-support';
import { Redis } from 'ioredis';
import { LOOKUP_SHA } from '../packages/identity/src/redis-lookup.js';
import { ReadConnection } from '../packages/identity/src/redis-read/connection.js';

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
const ROUNDS = argValue('--rounds', 5);
const CLUSTER = 'bench';
const PREFIX = 'podgate:';

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const CLAIMS_KEY = `${PREFIX}claims:{${CLUSTER}}`;
const PODS_KEY = `${PREFIX}pods:{${CLUSTER}}`;

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

/** One operation on record i; resolves true when it got the expected answer. */
type Op = (i: number) => Promise<boolean>;

/** Operations per second with `callers` concurrent loops of sequential awaits. */
async function measure(op: Op, callers: number, total: number): Promise<number> {
  let next = 0;
  let failures = 0;
  const loop = async () => {
    while (next < total) {
      const i = next++;
      if (!(await op(i % RECORDS))) failures++;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: callers }, loop));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (failures > 0) throw new Error(`${failures} of ${total} operations failed`);
  return total / seconds;
}

/** redis-benchmark's GET requests per second (its --csv output: "test","rps",...). */
async function redisBenchmarkGet(port: number, clients: number, total: number): Promise<number> {
  const { stdout } = await execFileAsync('redis-benchmark', [
    ...['-h', '127.0.0.1', '-p', String(port), '-t', 'get'],
    ...['-n', String(total), '-c', String(clients), '--csv'],
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
const closers: Array<() => unknown> = [];
try {
  const open = async (dedicatedLookupConnection: boolean) => {
    const s = await createRedisIdentityStore({
      url: redis.url,
      clusters: [CLUSTER],
      dedicatedLookupConnection,
    });
    closers.push(() => s.close());
    return s;
  };
  const store = await open(true);
  const storeOnIoredis = await open(false);
  await store.heartbeat(CLUSTER, 600_000);
  const loadStarted = performance.now();
  await store.reconcile(
    CLUSTER,
    Array.from({ length: RECORDS }, (_, i) => podRecord(i)),
  );
  const loadMs = performance.now() - loadStarted;
  await Promise.all([store.refreshFreshness(), storeOnIoredis.refreshFreshness()]);

  const ioredis = new Redis({ port: redis.port, protocol: 2, enableOfflineQueue: false, lazyConnect: true });
  await ioredis.connect();
  closers.push(() => ioredis.disconnect());
  const raw = await ReadConnection.open({ host: '127.0.0.1', port: redis.port, requestTimeoutMs: 5_000 });
  closers.push(() => raw.close());

  const lookup =
    (s: RedisIdentityStore): Op =>
    async (i) => {
      const r = await s.lookup(ipOf(i), [CLUSTER]);
      return r.ok && r.identity.name === `worker-${i}`;
    };
  const variants: Array<{ name: string; op: Op | null }> = [
    { name: 'redis-benchmark GET (C client)', op: null },
    {
      name: 'bare ioredis HGET of the IP index',
      op: async (i) => (await ioredis.hget(CLAIMS_KEY, ipOf(i))) !== null,
    },
    {
      name: 'bare HGET on the lookup connection (raw socket, RESP2)',
      op: (i) =>
        new Promise((resolve) =>
          raw.send(['HGET', CLAIMS_KEY, ipOf(i)], (err, reply) =>
            resolve(err === null && typeof reply === 'string'),
          ),
        ),
    },
    {
      name: 'bare LOOKUP script on the lookup connection',
      op: (i) =>
        new Promise((resolve) =>
          raw.send(['EVALSHA', LOOKUP_SHA, '2', CLAIMS_KEY, PODS_KEY, ipOf(i)], (err, reply) =>
            resolve(err === null && Array.isArray(reply) && reply.length === 2),
          ),
        ),
    },
    { name: 'store, lookups on ioredis', op: lookup(storeOnIoredis) },
    { name: 'store, lookup connection', op: lookup(store) },
  ];

  // Warm-up: JIT, connections.
  for (const v of variants) if (v.op !== null) await measure(v.op, 50, Math.min(LOOKUPS, 20_000));

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const table: Array<{ callers: number; rates: number[] }> = [];
  for (const callers of [1, 50]) {
    const total = callers === 1 ? Math.ceil(LOOKUPS / 4) : LOOKUPS;
    const samples: number[][] = variants.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, v] of variants.entries()) {
        samples[k]!.push(
          v.op === null
            ? await redisBenchmarkGet(redis.port, callers, total)
            : await measure(v.op, callers, total),
        );
      }
    }
    table.push({ callers, rates: samples.map(median) });
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const storeIndex = variants.length - 1;
  const lines = [
    `Identity lookups through RedisIdentityStore (one LOOKUP script each) vs \`redis-benchmark -t get\`, same redis-server, same concurrency, median of ${ROUNDS} alternating rounds, ${RECORDS.toLocaleString('en-US')} records (loaded by reconcile in ${Math.round(loadMs)} ms), Node ${process.version}, ${new Date().toISOString()}.`,
    '',
    '| callers | store lookups/s | redis-benchmark GET/s | ratio | target >= 0.5 |',
    '|---:|---:|---:|---:|:---:|',
    ...table.map((row) => {
      const ratio = row.rates[storeIndex]! / row.rates[0]!;
      return `| ${row.callers} | ${fmt(row.rates[storeIndex]!)} | ${fmt(row.rates[0]!)} | ${ratio.toFixed(2)} | ${ratio >= 0.5 ? 'met' : 'missed'} |`;
    }),
    '',
    'Where the time goes (operations/s; ratio to redis-benchmark GET in brackets):',
    '',
    `| variant | ${table.map((r) => `${r.callers} caller${r.callers === 1 ? '' : 's'}`).join(' | ')} |`,
    `|---|${table.map(() => '---:').join('|')}|`,
    ...variants.map(
      (v, k) =>
        `| ${v.name} | ${table.map((r) => `${fmt(r.rates[k]!)} (${(r.rates[k]! / r.rates[0]!).toFixed(2)})`).join(' | ')} |`,
    ),
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'store.md'), text);
} finally {
  for (const close of closers.reverse()) await close();
  await redis.stop();
}
