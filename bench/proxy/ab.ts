// Two builds of `podgate proxy` side by side, for a change's A/B: each build's proxy pinned to
// core 0, in alternating rounds against one nginx and one Redis (core 1, as in proxy.bench.ts),
// HAProxy in the same rounds for the in-run ratio. The machine is shared: only what is measured
// in the same run, round by round, compares. Each round prints the rate and the proxy's CPU
// per connection (user + system, from /proc/PID/stat around the round); the end, the medians.
//
//   node --import tsx bench/proxy/ab.ts A_ROOT B_ROOT [--rounds N] [--seconds N] [--hold S]
//
// A_ROOT and B_ROOT are checkouts with `npm run build` done (a git worktree of the base commit
// beside this one). The order of A and B alternates from round to round. --hold S: start
// everything, print the ports and pids, and wait S seconds instead of measuring (for strace).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createRedisIdentityStore } from '@podgate/identity';
import { freePort, redisCli, startRedis } from '@podgate/test-support';
import { cpuSplitMs, wrk } from './load.js';
import { type Peer, startHaproxy, startNginx, startPinned, tempDir } from './peers.js';

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
if (args.length !== 2) throw new Error('usage: ab.ts A_ROOT B_ROOT [--rounds N] [--seconds N] [--hold S]');
const roots = args.map((a) => resolve(a));

// The bench's own configuration: the seed's fail-closed namespace policy, forward-internal.
const config = (nginxPort: number) => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: web-internal, namespace: payments}
spec:
  url: http://web.payments.internal
  upstream: {url: "http://127.0.0.1:${nginxPort}"}
---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: web, namespace: payments}
spec:
  url: http://web.payments
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
        - expressions:
            - conn.k8s.pod.metadata.error_code != ""
          actions:
            - type: deny
        - expressions:
            - conn.k8s.pod.metadata.namespace != "payments"
          actions:
            - type: deny
        - actions:
            - type: forward-internal
              config:
                url: http://web.payments.internal
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const peers: Peer[] = [];
const redis = await startRedis();
try {
  const redisPid = /process_id:(\d+)/.exec(await redisCli(redis.port, ['INFO', 'server']))?.[1];
  if (redisPid === undefined) throw new Error('redis-server did not say its process id');
  await promisify(execFile)('taskset', ['-p', '-c', String(LOAD_CORE), redisPid]);
  await promisify(execFile)('chrt', ['-f', '-p', '10', redisPid]).catch(() => {});
  const writer = await createRedisIdentityStore({ url: redis.url });
  await writer.heartbeat('bench', 3_600_000);
  await writer.reconcile('bench', [
    {
      uid: '00000000-0000-4000-8000-000000000001',
      name: 'bench-client',
      namespace: 'payments',
      annotations: {},
      errorCode: '',
      errorMessage: '',
      ips: ['127.0.0.1'],
      resourceVersion: '1',
    },
  ]);
  await writer.close();

  const nginxPort = await freePort();
  const haproxyPort = await freePort();
  const configFile = join(tempDir('proxy-ab'), 'podgate.yaml');
  writeFileSync(configFile, config(nginxPort));
  peers.push(await startNginx(LOAD_CORE, nginxPort));
  const haproxy = await startHaproxy(PROXY_CORE, haproxyPort, nginxPort);
  peers.push(haproxy);
  const targets = [{ name: 'HAProxy', port: haproxyPort, pid: haproxy.pid }];
  for (const [k, root] of roots.entries()) {
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
    peers.push(proxy);
    targets.push({ name: `${'AB'[k]} ${root}`, port, pid: proxy.pid });
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
    for (const t of targets) await wrk(LOAD_CORE, url(t.port), { connections: 50, seconds: 2, close: true });
    const rows = targets.map(() => ({ rate: [] as number[], cpu: [] as number[], user: [] as number[] }));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [1, 2, 0] : [2, 1, 0];
      const line: string[] = [];
      for (const k of order) {
        const t = targets[k]!;
        const before = await cpuSplitMs(t.pid);
        const r = await wrk(LOAD_CORE, url(t.port), { connections: 50, seconds: SECONDS, close: true });
        const after = await cpuSplitMs(t.pid);
        const conns = r.requestsPerSec * SECONDS;
        const user = ((after.user - before.user) * 1000) / conns;
        const cpu = user + ((after.sys - before.sys) * 1000) / conns;
        rows[k]!.rate.push(r.requestsPerSec);
        rows[k]!.cpu.push(cpu);
        rows[k]!.user.push(user);
        line.push(
          `${t.name.slice(0, 7)} ${Math.round(r.requestsPerSec)}/s ${cpu.toFixed(1)} (${user.toFixed(1)}) us${r.errors > 0 ? ` errors ${r.errors}` : ''}`,
        );
      }
      console.log(`round ${round + 1}: ${line.join(' | ')}`);
    }
    const [h, a, b] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const show = (name: string, r: (typeof rows)[0]) =>
      `${name}: rate ${Math.round(median(r.rate))}/s (${r.rate.map(Math.round).join(', ')}), CPU per connection ${median(r.cpu).toFixed(1)} us (user ${median(r.user).toFixed(1)}) [${r.cpu.map((x) => x.toFixed(1)).join(', ')}]`;
    console.log(show('HAProxy', h));
    console.log(show(`A ${roots[0]}`, a));
    console.log(show(`B ${roots[1]}`, b));
    const perRound = (f: (k: number) => number) => median(a.rate.map((_, k) => f(k)));
    console.log(
      `B/A: rate ${(median(b.rate) / median(a.rate)).toFixed(3)} (per-round median ${perRound((k) => b.rate[k]! / a.rate[k]!).toFixed(3)}), CPU ${(median(b.cpu) / median(a.cpu)).toFixed(3)} (per-round median ${perRound((k) => b.cpu[k]! / a.cpu[k]!).toFixed(3)}); vs HAProxy rate A ${(median(a.rate) / median(h.rate)).toFixed(3)} B ${(median(b.rate) / median(h.rate)).toFixed(3)}, CPU HAProxy/A ${(median(h.cpu) / median(a.cpu)).toFixed(3)} HAProxy/B ${(median(h.cpu) / median(b.cpu)).toFixed(3)}`,
    );
  }
} finally {
  await Promise.all(peers.map((p) => p.stop()));
  await redis.stop();
}
