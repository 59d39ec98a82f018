// Builds of `podgate proxy` side by side, for a change's A/B: each build's proxy pinned to
// core 0, in alternating rounds against one nginx and one Redis (core 1, as in proxy.bench.ts),
// HAProxy in the same rounds for the in-run ratio. The machine is shared: only what is measured
// in the same run, round by round, compares. Each round prints the rate and the proxy's CPU
// per connection (user + system, from /proc/PID/stat around the round); the end, the medians.
//
//   node --import tsx bench/proxy/ab.ts A_ROOT B_ROOT [C_ROOT...] [--rounds N] [--seconds N]
//     [--fresh] [--together] [--hold S]
//
// Each ROOT is a checkout with `npm run build` done (a git worktree of the base commit beside
// this one); A is the base the others are compared with. The order of the builds rotates from
// round to round. --fresh: new processes for every round. --together: the builds measured at
// the same time (below). --hold S: start everything, print the ports and pids, and wait S
// seconds (or until SIGINT) instead of measuring (strace, perf).
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '@podgate/test-support';
import { cpuSplitMs, wrk } from './load.js';
import { type Peer, startHaproxy, startNginx, startPinned, tempDir } from './peers.js';
import { benchConfig, startBenchRedis } from './store.js';

const PROXY_CORE = 0;
const LOAD_CORE = 1;
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args.splice(i, 2)[1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const ROUNDS = flag('--rounds', 6);
const SECONDS = flag('--seconds', 4);
const HOLD = flag('--hold', Number.NaN);
// --fresh: a new process of each build for every round (two processes of one build differed by
// up to 4% in CPU per connection, measured side by side: a process's own luck, not its code).
const FRESH = args.includes('--fresh');
if (FRESH) args.splice(args.indexOf('--fresh'), 1);
// --together: the builds' rounds at the same time (a wrk each, the proxies sharing core 0), so
// whatever else the machine does lands on all of them alike; HAProxy after, alone.
const TOGETHER = args.includes('--together');
if (TOGETHER) args.splice(args.indexOf('--together'), 1);
if (args.length < 2)
  throw new Error('usage: ab.ts A_ROOT B_ROOT [C_ROOT...] [--rounds N] [--seconds N] [--hold S]');
const roots = args.map((a) => resolve(a));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const peers: Peer[] = [];
const { redis } = await startBenchRedis(LOAD_CORE);
try {
  const nginxPort = await freePort();
  const haproxyPort = await freePort();
  const configFile = join(tempDir('proxy-ab'), 'podgate.yaml');
  writeFileSync(configFile, benchConfig(nginxPort));
  peers.push(await startNginx(LOAD_CORE, nginxPort));
  const haproxy = await startHaproxy(PROXY_CORE, haproxyPort, nginxPort);
  peers.push(haproxy);
  const startProxy = async (root: string) => {
    const port = await freePort();
    const proxy = await startPinned(
      PROXY_CORE,
      [
        process.execPath,
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
        '--max-connections',
        '50000',
      ],
      port,
      { ...process.env, PODGATE_RUN: 'build', NODE_OPTIONS: '' },
    );
    return proxy;
  };
  const targets: Array<{ name: string; port: number; pid: number; root?: string; peer?: Peer }> = [
    { name: 'HAProxy', port: haproxyPort, pid: haproxy.pid },
  ];
  for (const [k, root] of roots.entries()) {
    const name = `${'ABCDEFGH'[k]} ${root}`;
    if (FRESH) {
      targets.push({ name, port: 0, pid: 0, root });
      continue;
    }
    const proxy = await startProxy(root);
    peers.push(proxy);
    targets.push({ name, port: proxy.port, pid: proxy.pid, root, peer: proxy });
  }
  const url = (port: number) => `http://127.0.0.1:${port}/`;
  if (!Number.isNaN(HOLD)) {
    console.log(JSON.stringify({ nginxPort, redisPort: redis.port, targets }));
    // SIGINT ends the wait early, with everything stopped.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HOLD * 1000);
      process.once('SIGINT', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } else {
    for (const t of targets) {
      if (t.port > 0) await wrk(LOAD_CORE, url(t.port), { connections: 50, seconds: 2, close: true });
    }
    const rows = targets.map(() => ({ rate: [] as number[], cpu: [] as number[], user: [] as number[] }));
    const builds = roots.map((_, k) => k + 1);
    for (let round = 0; round < ROUNDS; round++) {
      // The builds in rotation (and reversed every other round), HAProxy last.
      const shift = Math.floor(round / 2) % builds.length;
      const rotated = [...builds.slice(shift), ...builds.slice(0, shift)];
      const order = [...(round % 2 === 0 ? rotated : rotated.reverse()), 0];
      const line: string[] = [];
      const measure = async (ks: number[]) => {
        for (const k of ks) {
          const t = targets[k]!;
          if (FRESH && t.root !== undefined) {
            t.peer = await startProxy(t.root);
            peers.push(t.peer);
            t.port = t.peer.port;
            t.pid = t.peer.pid;
            await wrk(LOAD_CORE, url(t.port), { connections: 50, seconds: 2, close: true });
          }
        }
        const before = await Promise.all(ks.map((k) => cpuSplitMs(targets[k]!.pid)));
        const results = await Promise.all(
          ks.map((k) =>
            wrk(LOAD_CORE, url(targets[k]!.port), { connections: 50, seconds: SECONDS, close: true }),
          ),
        );
        const after = await Promise.all(ks.map((k) => cpuSplitMs(targets[k]!.pid)));
        for (const [i, k] of ks.entries()) {
          const t = targets[k]!;
          const r = results[i]!;
          const conns = r.requestsPerSec * SECONDS;
          const user = ((after[i]!.user - before[i]!.user) * 1000) / conns;
          const cpu = user + ((after[i]!.sys - before[i]!.sys) * 1000) / conns;
          rows[k]!.rate.push(r.requestsPerSec);
          rows[k]!.cpu.push(cpu);
          rows[k]!.user.push(user);
          if (FRESH && t.peer !== undefined) await t.peer.stop();
          line.push(
            `${t.name.slice(0, 1)} ${Math.round(r.requestsPerSec)}/s ${cpu.toFixed(1)} (${user.toFixed(1)}) us${r.errors > 0 ? ` errors ${r.errors}` : ''}`,
          );
        }
      };
      if (TOGETHER) {
        await measure(builds);
        await measure([0]);
      } else {
        for (const k of order) await measure([k]);
      }
      console.log(`round ${round + 1}: ${line.join(' | ')}`);
    }
    const show = (name: string, r: (typeof rows)[0]) =>
      `${name}: rate ${Math.round(median(r.rate))}/s (${r.rate.map(Math.round).join(', ')}), CPU per connection ${median(r.cpu).toFixed(1)} us (user ${median(r.user).toFixed(1)}) [${r.cpu.map((x) => x.toFixed(1)).join(', ')}]`;
    const h = rows[0]!;
    const a = rows[1]!;
    console.log(show('HAProxy', h));
    for (const k of builds) console.log(show(targets[k]!.name, rows[k]!));
    const perRound = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!));
    for (const k of builds) {
      const b = rows[k]!;
      const letter = targets[k]!.name.slice(0, 1);
      console.log(
        `${letter}/A: rate ${(median(b.rate) / median(a.rate)).toFixed(3)} (per round ${perRound(b.rate, a.rate).toFixed(3)}), CPU ${(median(b.cpu) / median(a.cpu)).toFixed(3)} (per round ${perRound(b.cpu, a.cpu).toFixed(3)}, lower in ${b.cpu.filter((x, i) => x < a.cpu[i]!).length} of ${ROUNDS}); vs HAProxy: rate ${(median(b.rate) / median(h.rate)).toFixed(3)}, CPU HAProxy/${letter} ${(median(h.cpu) / median(b.cpu)).toFixed(3)} (per round ${perRound(h.cpu, b.cpu).toFixed(3)})`,
      );
    }
  }
} finally {
  await Promise.all(peers.map((p) => p.stop()));
  await redis.stop();
}
