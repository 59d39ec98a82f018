// The benchmark's real peers, each its own process with a config in a temp dir: nginx (the
// upstream), HAProxy (the reference proxy, TCP mode with a source ACL), the bare Node pipe.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Peer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `podgate-bench-${name}-`));
}

/** Waits until `port` on 127.0.0.1 accepts a connection. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `command` pinned to `core` (taskset), resolves once `port` accepts. */
export async function startPinned(
  core: number,
  command: string[],
  port: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Peer> {
  const child: ChildProcess = spawn('taskset', ['-c', String(core), ...command], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port);
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const BIG_FILE_BYTES = 256 * 1024 * 1024;

/** nginx on one worker: `/` answers 2 bytes, `/big` a 256 MiB file. */
export function startNginx(core: number, port: number): Promise<Peer> {
  const dir = tempDir('nginx');
  // nginx's workers run as nobody: they must be able to read the file under it.
  chmodSync(dir, 0o755);
  // A sparse file: read as zeros, costs no disk.
  writeFileSync(join(dir, 'big'), '');
  truncateSync(join(dir, 'big'), BIG_FILE_BYTES);
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  sendfile on;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = / { return 200 'ok'; }
    location = /big { alias ${dir}/big; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  return startPinned(core, ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')], port);
}

/** HAProxy, one thread, TCP mode, connections from outside 127.0.0.0/8 refused (the source ACL). */
export function startHaproxy(core: number, port: number, upstreamPort: number): Promise<Peer> {
  const dir = tempDir('haproxy');
  const conf = `global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 300s
  timeout server 300s
frontend fe
  bind 127.0.0.1:${port}
  acl pods src 127.0.0.0/8
  tcp-request connection reject if !pods
  default_backend be
backend be
  server nginx 127.0.0.1:${upstreamPort}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), conf);
  return startPinned(core, ['haproxy', '-f', join(dir, 'haproxy.cfg'), '-db'], port);
}
