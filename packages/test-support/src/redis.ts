// Real redis-server processes for tests: one server, or a 3-master Redis Cluster, each
// on free loopback ports with its own temporary directory. Never the machine's own Redis.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const execFileAsync = promisify(execFile);

export interface RedisServer {
  host: '127.0.0.1';
  port: number;
  /** `redis://[:password@]127.0.0.1:PORT`. */
  url: string;
  stop(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but stops answering (a hung Redis). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** The redis-server process id. */
  pid: number;
  /** Sends `signal` (a crash: SIGKILL); resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface RedisCluster {
  nodes: Array<{ host: '127.0.0.1'; port: number }>;
  stop(): Promise<void>;
}

const STARTUP_DEADLINE_MS = 10_000;
const POLL_MS = 25;

// Children still running, killed synchronously if the test process exits without stop().
const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const entry of live) {
      try {
        entry.child.kill('SIGKILL');
      } catch {
        // already gone
      }
      rmSync(entry.dir, { recursive: true, force: true });
    }
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs one command through redis-cli; resolves with its stdout (trimmed). */
export async function redisCli(port: number, args: string[], password?: string): Promise<string> {
  const auth = password === undefined ? [] : ['--no-auth-warning', '-a', password];
  const { stdout } = await execFileAsync(
    'redis-cli',
    ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args],
    {
      timeout: 5_000,
    },
  );
  return stdout.trim();
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  isDead: () => string | null,
): Promise<void> {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  for (;;) {
    const dead = isDead();
    if (dead !== null) throw new Error(`${what}: ${dead}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${STARTUP_DEADLINE_MS} ms`);
    await sleep(POLL_MS);
  }
}

interface SpawnedServer {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
  exited: Promise<void>;
}

async function spawnOnce(port: number, extraArgs: string[], password?: string): Promise<SpawnedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'podgate-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  if (password !== undefined) args.push('--requirepass', password);
  args.push(...extraArgs);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { child, dir };
  live.add(entry);
  installExitHook();
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (output.length < 8192) output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (output.length < 8192) output += chunk.toString('utf8');
  });
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `redis-server exited (code ${code}, signal ${signal}): ${output.slice(-600)}`;
      live.delete(entry);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = `cannot start redis-server: ${err.message}`;
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return exitedPromise;
    stopped = true;
    if (exited !== null) return;
    // A paused server would keep SIGTERM pending; continue it first.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exitedPromise;
    clearTimeout(timer);
  };

  try {
    await waitFor(
      `redis-server on port ${port}`,
      async () => {
        const reply = await redisCli(port, ['PING'], password);
        return reply === 'PONG';
      },
      () => exited,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, child, stop, exited: exitedPromise };
}

/** Starts redis-server on a free port, retrying when the port was taken meanwhile. */
async function spawnRedis(
  extraArgs: string[],
  password?: string,
  fixedPort?: number,
): Promise<SpawnedServer> {
  if (fixedPort !== undefined) return spawnOnce(fixedPort, extraArgs, password);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await spawnOnce(port, extraArgs, password);
    } catch (err) {
      lastError = err;
      if (!String(err).includes('Address already in use')) throw err;
    }
  }
  throw lastError;
}

/** `port` restarts a server on the port of one that was stopped (clients reconnect to it). */
export async function startRedis(opts: { password?: string; port?: number } = {}): Promise<RedisServer> {
  const server = await spawnRedis([], opts.password, opts.port);
  const auth = opts.password === undefined ? '' : `:${encodeURIComponent(opts.password)}@`;
  return {
    host: '127.0.0.1',
    port: server.port,
    url: `redis://${auth}127.0.0.1:${server.port}`,
    stop: server.stop,
    pause: () => {
      server.child.kill('SIGSTOP');
    },
    resume: () => {
      server.child.kill('SIGCONT');
    },
    pid: server.child.pid ?? 0,
    kill: async (signal) => {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
      await server.exited;
    },
  };
}

const CLUSTER_SLOTS = 16384;

/**
 * Three masters, no replicas. Slots are assigned with ADDSLOTSRANGE and the nodes joined
 * with MEET directly (what `redis-cli --cluster create` does, without its 1 s sleeps).
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const clusterArgs = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    // Short enough for a quick cluster_state:ok (the rejoin delay scales with it), long
    // enough that a busy CI machine does not flag nodes as failing.
    '--cluster-node-timeout',
    '3000',
  ];
  const servers = await Promise.all([0, 1, 2].map(() => spawnRedis(clusterArgs)));
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const per = Math.ceil(CLUSTER_SLOTS / servers.length);
    await Promise.all(
      servers.map(async (s, i) => {
        // Distinct epochs avoid the epoch-collision dance of freshly met masters.
        await redisCli(s.port, ['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
        const first = i * per;
        const last = Math.min(CLUSTER_SLOTS, (i + 1) * per) - 1;
        await redisCli(s.port, ['CLUSTER', 'ADDSLOTSRANGE', String(first), String(last)]);
      }),
    );
    const [seed, ...others] = servers;
    for (const other of others) {
      await redisCli(seed!.port, ['CLUSTER', 'MEET', '127.0.0.1', String(other.port)]);
    }
    for (const s of servers) {
      await waitFor(
        `cluster node ${s.port}`,
        async () => {
          const info = await redisCli(s.port, ['CLUSTER', 'INFO']);
          if (!/cluster_state:ok/.test(info)) return false;
          // Every node must know all three masters before clients can be routed reliably.
          const nodes = await redisCli(s.port, ['CLUSTER', 'NODES']);
          return nodes.split('\n').filter((line) => line.includes('master')).length === servers.length;
        },
        () => (s.child.exitCode !== null ? 'redis-server exited' : null),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: servers.map((s) => ({ host: '127.0.0.1' as const, port: s.port })), stop };
}
