// A bounded soak: the proxy and the decision service under a steady load for SOAK_SECONDS
// (default 120) while pods churn in the fake API (created, deleted, finished, their addresses
// handed to pods of the other namespace). Every exchange is judged as in the fault suite, with
// no fault to excuse anything.
//
// Memory and descriptors. Each podgate process runs with the heap probe (a full collection
// once a second, then its heap in use written out); once a second the test also reads VmRSS and
// the descriptor count from /proc. Over the second half (after warm-up) the least-squares slope
// per 1,000 connections (decision service: requests) must stay under:
// - heap after a full collection: 250 KiB per 1,000. Leaking one connection record (client,
//   endpoint, identity, decision) is about 0.9 KiB of heap (measured: docs/RELIABILITY.md), so
//   900 KiB per 1,000, 3.6 times the threshold; with no leak the slope measured 30-80 over
//   2-minute runs on a loaded 2-core machine.
// - RSS: 2,000 KiB per 1,000. RSS also moves with the collector growing and returning memory
//   (by 10 MiB either way within a run here), so over 2 minutes it only catches leaks of 2 KiB
//   or more per connection (a leaked socket with its buffers); the heap slope is the fine one.
// - descriptors: counted twice with the load paused and everything in flight finished (at half
//   time and at the end), where the count is exact: fewer than 2 more per 1,000 connections in
//   between. A leaked socket is 1,000 per 1,000 (2,000 for a forwarded connection).
import { readHeapSamples, readProcStats, slope } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checker } from './checks.js';
import { awaitConvergence } from './converge.js';
import { Load } from './load.js';
import { writePart } from './report.js';
import { type Stack, startStack } from './stack.js';
import { ALLOWED_NAMESPACE, ipPool, REFUSED_NAMESPACE, randomChange, World } from './world.js';

const LEAK_INJECTION = new URL('./leak-injection.mjs', import.meta.url).pathname;
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const PROXY_RATE = Number(process.env.SOAK_PROXY_RATE ?? 80);
const DECISION_RATE = Number(process.env.SOAK_DECISION_RATE ?? 40);
/** Cluster changes per second. */
const CHURN_RATE = 4;
const HEAP_KB_PER_1000_MAX = 250;
const RSS_KB_PER_1000_MAX = 2_000;
const QUIET_FDS_PER_1000_MAX = 2;
const PROCESSES = ['proxy', 'decision', 'watcher'] as const;
type ProcessName = (typeof PROCESSES)[number];

interface Sample {
  done: number;
  rssKb: number;
  fds: number;
  /** JS heap in use after the last full collection (the heap probe), KiB; NaN before its first line. */
  heapKb: number;
}

let stack: Stack;
let world: World;
let checker: Checker;
let stopped = false;

beforeAll(async () => {
  if (!Number.isFinite(SOAK_SECONDS) || SOAK_SECONDS < 10 || SOAK_SECONDS > 3_600) {
    throw new Error(`SOAK_SECONDS must be 10..3600, got ${process.env.SOAK_SECONDS}`);
  }
  stack = await startStack({
    heapProbe: true,
    // The positive control (docs/RELIABILITY.md): a proxy that leaks one record per connection.
    ...(process.env.SOAK_INJECT_LEAK === '1' ? { proxyImports: [LEAK_INJECTION] } : {}),
  });
  world = new World(stack.api, ipPool(40));
  for (const ip of world.ips.slice(0, 15)) world.create(ip, ALLOWED_NAMESPACE);
  for (const ip of world.ips.slice(15, 30)) world.create(ip, REFUSED_NAMESPACE);
  checker = new Checker(world);
  stack.proxy.onLine((line) => checker.proxyLogLine(line));
  stack.upstreams.ledger.onArrival((a) => checker.upstreamArrival('ledger', a));
  stack.upstreams.status.onArrival((a) => checker.upstreamArrival('status', a));
  const first = await awaitConvergence(stack, world, 20_000);
  expect(first.differences).toEqual([]);
});

afterAll(async () => {
  if (!stopped) await stack?.stop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Slope of y per 1,000 of `done` over the second half of the samples. */
function secondHalfSlope(samples: Sample[], y: (s: Sample) => number): number {
  const half = samples.slice(Math.floor(samples.length / 2)).filter((s) => Number.isFinite(y(s)));
  return slope(half.map((s) => ({ x: s.done / 1000, y: y(s) })));
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

describe(`soak: ${SOAK_SECONDS} s under load with pods churning`, () => {
  it(
    'no errors, no misattribution; memory and descriptors flat after warm-up',
    async () => {
      const load = new Load(stack, world, checker, {
        proxyRate: PROXY_RATE,
        decisionRate: DECISION_RATE,
        maxInFlight: 64,
        timeoutMs: 5_000,
      });
      const done = (name: ProcessName) =>
        name === 'proxy'
          ? checker.counts.proxyConnections
          : name === 'decision'
            ? checker.counts.decisions + checker.counts.forwardAuth
            : world.changes;
      const pid = (name: ProcessName) => stack[name].pid;
      const samples: Record<ProcessName, Sample[]> = { proxy: [], decision: [], watcher: [] };
      const sample = () => {
        for (const name of PROCESSES) {
          const stats = readProcStats(pid(name));
          if (stats === null) continue;
          const heap = readHeapSamples(stack.heapFiles[name]).at(-1);
          const heapKb = heap === undefined ? Number.NaN : heap.heapUsed / 1024;
          samples[name].push({ done: done(name), heapKb, ...stats });
        }
      };
      /** The load paused and drained: descriptors and connections counted exactly. */
      const quiet = async () => {
        await load.stop();
        await sleep(1_500); // the proxy logs and closes after the client; a heap probe line after
        const out = Object.fromEntries(
          PROCESSES.map((name) => [name, { done: done(name), fds: readProcStats(pid(name))?.fds ?? -1 }]),
        ) as Record<ProcessName, { done: number; fds: number }>;
        return out;
      };
      let changes = 0;
      const churn = setInterval(() => {
        randomChange(world);
        if (++changes % 20 === 0) world.sweepFinished();
      }, 1000 / CHURN_RATE);
      const sampler = setInterval(sample, 1_000);
      const alive = () => {
        for (const p of [stack.proxy, stack.decision, stack.watcher]) {
          expect(p.exit(), `podgate ${p.command} died: ${p.stderr()}`).toBeNull();
        }
      };
      let mid: Record<ProcessName, { done: number; fds: number }> | undefined;
      let end: Record<ProcessName, { done: number; fds: number }> | undefined;
      try {
        for (const half of [1, 2]) {
          const started = performance.now();
          load.start();
          while (performance.now() - started < (SOAK_SECONDS * 1000) / 2) {
            await sleep(1_000);
            alive();
          }
          if (half === 1) mid = await quiet();
          else end = await quiet();
        }
      } finally {
        clearInterval(churn);
        clearInterval(sampler);
        await load.stop();
      }
      sample();
      const converged = await awaitConvergence(stack, world, 20_000);
      const exits = await stack.stop();
      stopped = true;
      checker.settle();

      const figures = Object.fromEntries(
        PROCESSES.map((name) => {
          const s = samples[name];
          const warm = s[Math.floor(s.length / 2)]!;
          const last = s.at(-1)!;
          const between = end![name].done - mid![name].done;
          return [
            name,
            {
              per: name === 'watcher' ? 'cluster change' : name === 'proxy' ? 'connection' : 'request',
              samples: s.length,
              secondHalfCount: between,
              heapKbPer1000: round(secondHalfSlope(s, (x) => x.heapKb)),
              rssKbPer1000: round(secondHalfSlope(s, (x) => x.rssKb)),
              fdsPer1000: round(
                secondHalfSlope(s, (x) => x.fds),
                2,
              ),
              quietFdsPer1000:
                between > 0 ? round(((end![name].fds - mid![name].fds) * 1000) / between, 2) : 0,
              heapKb: { warm: Math.round(warm.heapKb), end: Math.round(last.heapKb) },
              rssKb: {
                start: s[0]!.rssKb,
                warm: warm.rssKb,
                end: last.rssKb,
                max: Math.max(...s.map((x) => x.rssKb)),
              },
              fds: {
                quietMid: mid![name].fds,
                quietEnd: end![name].fds,
                max: Math.max(...s.map((x) => x.fds)),
              },
            },
          ];
        }),
      ) as unknown as Record<
        ProcessName,
        { heapKbPer1000: number; rssKbPer1000: number; quietFdsPer1000: number }
      >;
      const counts = {
        ...checker.counts,
        soakSeconds: SOAK_SECONDS,
        clusterChanges: world.changes,
        loadSkipped: load.skipped,
        maxSchedulerLagMs: Math.round(checker.lag.max),
      };
      const leakInjected = process.env.SOAK_INJECT_LEAK === '1';
      writePart('soak', {
        counts,
        figures,
        leakInjected,
        convergedMs: converged.ms,
        examples: checker.examples,
      });
      process.stdout.write(
        `soak figures: ${JSON.stringify({ leakInjected, figures, convergedMs: converged.ms })}\n`,
      );

      for (const e of exits) {
        expect(e.exit, `${e.command} ${e.pid}: ${e.stderr}`).toEqual({ code: 0, signal: null });
        expect(e.stderr, `${e.command} wrote to stderr`).toBe('');
      }
      expect(converged.differences).toEqual([]);
      // Timing is the machine's as much as ours: deadline misses are counted and must stay rare
      // (below); everything else must not happen at all.
      const tolerated = new Set(['deadlineMisses', 'proxyUpstreamFailed']);
      expect(checker.examples.filter((e) => !tolerated.has(String(e.kind)))).toEqual([]);
      expect(
        counts.misattributed + counts.refusedAllowed + counts.policyMismatch + counts.verdictMismatch,
      ).toBe(0);
      expect(counts.httpErrors + counts.proxyClientErrors).toBe(0);
      expect(counts.unmatchedExchanges + counts.unmatchedLogLines + counts.upstreamWithoutAllow).toBe(0);

      const exchanges = counts.proxyConnections + counts.decisions + counts.forwardAuth;
      // A starved machine: lookups past the 200 ms deadline are decided as unknown clients
      // (checked above), requests past the client's 5 s timeout are not decided at all. Both rare.
      // (Seen on this 2-core machine shared with other work, at a load average of 20: 6% and 9%.)
      expect(counts.lookupTimeouts).toBeLessThan(exchanges * 0.1 + 5);
      expect(counts.deadlineMisses).toBeLessThan(exchanges * 0.05 + 5);
      expect(counts.clientTimeouts).toBeLessThan(exchanges * 0.2 + 5);
      // An allowed connection that never reached the upstream (its connect past the proxy's 1 s
      // --connect-timeout on a starved machine): refused by the proxy, as it should be; rare.
      expect(counts.proxyUpstreamFailed).toBeLessThan(counts.proxyAllowed * 0.01 + 5);
      // The load was really there: at least half of what was asked for.
      expect(counts.proxyConnections).toBeGreaterThan(SOAK_SECONDS * PROXY_RATE * 0.5);
      for (const name of ['proxy', 'decision'] as const) {
        const f = figures[name];
        expect(f.heapKbPer1000, `${name} heap slope (KiB per 1,000)`).toBeLessThan(HEAP_KB_PER_1000_MAX);
        expect(f.rssKbPer1000, `${name} RSS slope (KiB per 1,000)`).toBeLessThan(RSS_KB_PER_1000_MAX);
        expect(f.quietFdsPer1000, `${name} descriptors (per 1,000, quiet)`).toBeLessThan(
          QUIET_FDS_PER_1000_MAX,
        );
      }
    },
    (SOAK_SECONDS + 180) * 1000,
  );
});
