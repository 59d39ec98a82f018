// The README's quick start, as a newcomer runs it: a clone of the committed HEAD into a
// temporary folder, `npm install` (here `npm ci --prefer-offline`: the same packages, from the
// npm cache when it has them, to keep it fast), `npm start`; then a connection through the proxy
// as an allowed and as a refused pod, the decision API with the printed token, Ctrl-C, exit 0,
// and nothing left listening.
//
// The install takes 20-40 s on a loaded 2-core machine, too slow for every `npm test`: the test
// runs when PODGATE_CLONE_TEST=1 (CI sets it).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@podgate/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { listening } from './cli-support.js';

const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);
const enabled = process.env.PODGATE_CLONE_TEST === '1';

/** A line as printed, run by bash in `cwd`: its exit status and output. */
async function bash(line: string, cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('bash', ['-c', line], { cwd, timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '' };
  }
}

let dir: string | undefined;
let npmStart: ChildProcess | undefined;

afterAll(async () => {
  if (npmStart?.pid !== undefined && npmStart.exitCode === null) {
    try {
      process.kill(-npmStart.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!enabled)('the quick start in a fresh clone (PODGATE_CLONE_TEST=1)', () => {
  it('npm install && npm start: the proxy allows and refuses, the decision API answers, Ctrl-C exits 0', async () => {
    dir = await mkdtemp(join(tmpdir(), 'podgate-clone-'));
    const repo = join(dir, 'repo');
    await run('git', ['clone', '-q', root, repo]);
    const install = await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: repo,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    // allowScripts covers every install script: npm has nothing to warn about.
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/install-scripts|allowScripts/);

    // Its own process group, as a terminal's foreground job.
    const child = spawn('npm', ['start'], { cwd: repo, detached: true });
    npmStart = child;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const said = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
    await waitFor(
      'npm start to print the commands',
      () => stdout.includes('Stop with Ctrl-C.') || child.exitCode !== null,
      90_000,
    );
    expect(child.exitCode, said()).toBeNull();

    // The ledger's printed curls, run as printed: worker-a reaches the demo upstream, the frontend's
    // connection is closed without a byte.
    const ledger = Number(/tcp:\/\/ledger\.payments:5432\s+127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    const curls = stdout
      .split('\n')
      .filter((l) => l.startsWith(`  curl --interface 127.0.0.`) && l.includes(`:${ledger}/`));
    const allowed = curls.find((l) => l.includes('payments/worker-a: allow'));
    const refused = curls.find((l) => l.includes('(the connection is closed)'));
    expect(allowed, said()).toContain('--interface 127.0.0.2 ');
    expect(refused, said()).toContain('--interface 127.0.0.4 ');
    const through = await bash(allowed!, repo);
    // The demo upstream is on the example's fixed port; if something else holds it, that answers.
    if (!stderr.includes('no demo upstream on 127.0.0.1:15432'))
      expect(through.out, said()).toMatch(/^hello from /);
    expect(through.code, said()).toBe(0);
    const closed = await bash(refused!, repo);
    expect([52, 56], said()).toContain(closed.code);
    expect(closed.out).toBe('');

    // The decision API, with the printed token, as printed.
    const decisionLine = stdout.split('\n').find((l) => l.includes('/v1/decisions'));
    const decision = JSON.parse((await bash(decisionLine!, repo)).out);
    expect(decision).toMatchObject({
      endpoint: 'tcp://ledger.payments:5432',
      client_ip: '127.0.0.2',
      allowed: true,
    });
    const apiPort = Number(/The decision API is on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);

    // Ctrl-C: SIGINT to podgate (a terminal sends it to the whole group, and npm then reports
    // the signal itself as 130; podgate's own status is what npm passes on when only it is told).
    const { stdout: ps } = await run('ps', ['-o', 'pid=,args=', '-g', String(child.pid)]);
    const node = ps.split('\n').find((l) => /node .*podgate(\.js)? dev/.test(l));
    expect(node, ps).toBeDefined();
    process.kill(Number(node!.trim().split(/\s+/)[0]), 'SIGINT');
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('still running'), 30_000)),
    ]);
    expect(code, said()).toBe(0);
    const ports = [ledger, apiPort, ...[...stdout.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]))];
    for (const port of new Set(ports)) expect(await listening(port), `port ${port}`).toBe(false);
  }, 420_000);
});
