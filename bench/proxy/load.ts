// Load generators: wrk (new connections per second with `Connection: close`, and bulk transfer
// over one keep-alive connection), and a fixed-rate connection generator for added latency.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSec: number;
  transferBytesPerSec: number;
  errors: number;
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** wrk pinned to `core`. `close`: a new connection per request. */
export async function wrk(
  core: number,
  url: string,
  options: { connections: number; seconds: number; close: boolean },
): Promise<WrkResult> {
  const args = ['-c', String(core), 'wrk', '-t1', `-c${options.connections}`, `-d${options.seconds}s`];
  if (options.close) args.push('-H', 'Connection: close');
  args.push(url);
  const { stdout } = await run('taskset', args, { maxBuffer: 1 << 20 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(stdout);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (rps === null) throw new Error(`wrk printed no rate:\n${stdout}`);
  const errors =
    (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0) +
    (non2xx ? Number(non2xx[1]) : 0);
  return {
    requestsPerSec: Number(rps[1]),
    transferBytesPerSec: transfer ? Number(transfer[1]) * UNITS[transfer[2]!]! : 0,
    errors,
  };
}

/**
 * `rate` new connections per second to each of `ports`, interleaved, for `seconds`, from
 * latency-generator.mjs pinned to `core`: connect, one request, read to the close. Returns per
 * port each answered connection's time from connect() to the last byte, in ms, and how many
 * were closed without an answer.
 */
export async function fixedRateLatencies(
  core: number,
  ports: readonly number[],
  rate: number,
  seconds: number,
): Promise<Array<{ samples: number[]; failures: number }>> {
  const generator = join(dirname(fileURLToPath(import.meta.url)), 'latency-generator.mjs');
  const { stdout } = await run(
    'taskset',
    ['-c', String(core), process.execPath, generator, String(rate), String(seconds), ...ports.map(String)],
    { maxBuffer: 64 << 20 },
  );
  // Reported, not thrown: a connection closed unanswered (a lookup past its deadline on an
  // overloaded machine is refused, fail-closed) is a figure of the run, not a broken run.
  const out = JSON.parse(stdout) as { samples: number[][]; failures: number[] };
  return ports.map((_, k) => ({ samples: out.samples[k]!, failures: out.failures[k]! }));
}

export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Opens `count` keep-alive connections through `port`, each having made one request. */
export async function idleConnections(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, count - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = net.connect({ port, host: '127.0.0.1' });
            s.on('error', reject);
            s.once('connect', () => s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
            s.once('data', () => resolve());
            sockets.push(s);
          }),
      ),
    );
  }
  return sockets;
}

/** Resident memory of a process, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (kb === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** User and system CPU time a process has used (all its threads), in ms, from /proc (ticks of 10 ms). */
export async function cpuSplitMs(pid: number): Promise<{ user: number; sys: number }> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}
