// The benchmarks' Redis stands for a store on a host of its own. It runs on the load core
// (on the measured server's core it would take turns with the server, and the baselines make
// no lookups) at real-time priority where allowed: at normal priority a lookup waited for the
// load generator's time slice (the proxy's lookup p99 at 1,000 connections/s: 1.8 ms against
// 0.3 ms at real-time priority, measured), a wait production does not have.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { redisCli } from '@podgate/test-support';

const run = promisify(execFile);

/** Pins the redis-server on `port` to `core` and raises its priority; says how it runs. */
export async function pinRedis(port: number, core: number): Promise<string> {
  const redisPid = /process_id:(\d+)/.exec(await redisCli(port, ['INFO', 'server']))?.[1];
  if (redisPid === undefined) throw new Error('redis-server did not say its process id');
  await run('taskset', ['-p', '-c', String(core), redisPid]);
  return run('chrt', ['-f', '-p', '10', redisPid]).then(
    () => 'at real-time priority (chrt -f 10)',
    () => 'at normal priority (chrt refused real-time priority)',
  );
}
