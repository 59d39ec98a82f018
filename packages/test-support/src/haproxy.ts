// A real HAProxy for interoperability tests: found on the PATH, started in the foreground
// with a config file in a temporary directory, on loopback ports picked here, and stopped by
// its own pid.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.js';

/** The haproxy executable on the PATH, or null. */
export function findHaproxy(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'haproxy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export function haproxyVersion(bin: string): string {
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
  return (out.stdout ?? '').split('\n')[0]?.trim() ?? 'unknown version';
}

/** Whether this machine can listen on ::1. */
export function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

export interface RunningHaproxy {
  stop(): Promise<void>;
}

/**
 * Start `bin -f <dir>/haproxy.cfg -db` and wait until it listens. Readiness is probed on a
 * frontend of its own that rejects every connection, so the probe never reaches a backend
 * (the tests' servers see only the tests' connections). HAProxy binds all its listeners
 * before it accepts on any. Rejects with HAProxy's output when it exits first.
 */
export async function startHaproxy(bin: string, config: string): Promise<RunningHaproxy> {
  const readyPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'podgate-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  const ready = `frontend podgate_ready\n  bind 127.0.0.1:${readyPort}\n  tcp-request connection reject\n`;
  await writeFile(file, `${config}\n${ready}`);
  const child: ChildProcess = spawn(bin, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let running = true;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running = false;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (running) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts('127.0.0.1', readyPort))) {
    if (!running || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { stop };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
