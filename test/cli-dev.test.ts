// `podgate dev` as a user runs it: a real process. The commands it prints are run by bash as
// printed; edits of the pods file and of the configuration take effect on new connections;
// SIGINT (Ctrl-C) stops it with exit 0 and nothing left listening.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listening } from './cli-support.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin/podgate');
const run = promisify(execFile);

/** What a client bound to `from` gets from 127.0.0.1:port before the connection ends ('' = closed unanswered). */
function fetchVia(port: number, from: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () =>
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    s.setTimeout(5_000, () => s.destroy());
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(text));
  });
}

/** A bash line as printed; its exit status and output. */
async function bash(line: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('bash', ['-c', line], { cwd: root, timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '' };
  }
}

let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podgate-dev-cli-'));
});
afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('podgate dev (a real process)', () => {
  it('prints commands that work as printed, follows edits on new connections, stops on SIGINT with exit 0', async () => {
    // The example files, with the demo upstreams on free ports (the examples' fixed ones may be taken).
    const upstreams = { 15432: await freePort(), 18080: await freePort() };
    let configText = await readFile(join(root, 'examples/podgate.yaml'), 'utf8');
    for (const [from, to] of Object.entries(upstreams))
      configText = configText.replaceAll(`127.0.0.1:${from}`, `127.0.0.1:${to}`);
    const config = join(dir, 'podgate.yaml');
    const pods = join(dir, 'pods.yaml');
    await writeFile(config, configText);
    await writeFile(pods, await readFile(join(root, 'examples/pods.yaml'), 'utf8'));

    const proc = spawn(bin, ['dev', '--config', config, '--pods-file', pods, '--refresh', '100ms'], {
      cwd: root,
    });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => {
      stdout += d;
    });
    proc.stderr!.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await waitFor(
      'the commands to paste',
      () => stdout.includes('Stop with Ctrl-C.') || proc.exitCode !== null,
      60_000,
    );
    const said = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
    expect(proc.exitCode, said()).toBeNull();
    // No raw JSON log lines on a laptop's terminal.
    expect(stderr, said()).not.toMatch(/^\{"level"/m);

    // Every printed curl through the proxy, as printed: allowed ones get the demo upstream's
    // answer, refused ones a closed connection (curl exit 52 or 56).
    const curls = stdout
      .split('\n')
      .filter((l) => /^ {2}curl --interface 127\.0\.0\.\d+ http:\/\/127\.0\.0\.1:\d+\//.test(l));
    expect(curls.length, said()).toBeGreaterThanOrEqual(4);
    for (const line of curls) {
      const result = await bash(line);
      if (line.includes('(the connection is closed)')) {
        expect([52, 56], line).toContain(result.code);
        expect(result.out, line).toBe('');
      } else {
        expect(result, line).toMatchObject({ code: 0 });
        expect(result.out, line).toMatch(/^hello from /);
      }
    }
    // The decision API lines, as printed, with the printed token.
    const api = stdout.split('\n').filter((l) => /^ {2}curl -si? -H 'authorization: Bearer /.test(l));
    expect(api, said()).toHaveLength(3);
    const decision = await bash(api[0]!);
    expect(JSON.parse(decision.out)).toMatchObject({ allowed: true, rule: { number: 3 } });
    const identity = await bash(api[1]!);
    expect(JSON.parse(identity.out)).toMatchObject({ identity: { metadata: { name: 'worker-b' } } });
    const forwardAuth = await bash(api[2]!);
    expect(forwardAuth.out).toMatch(/^HTTP\/1\.1 403/);
    // The eval line, as printed (npx from the repository's root).
    const evalLine = stdout.split('\n').find((l) => l.startsWith('  npx podgate eval '));
    const evaluated = await bash(evalLine!);
    expect(JSON.parse(evaluated.out)).toMatchObject({ allowed: false, rule: { number: 2 } });

    const ledger = Number(/tcp:\/\/ledger\.payments:5432\s+127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    expect(await fetchVia(ledger, '127.0.0.3')).toMatch(/hello from/);

    // The pods file: worker-b moves to namespace web; new connections from it are refused.
    const podsText = await readFile(pods, 'utf8');
    await writeFile(
      pods,
      podsText.replace(/name: worker-b\n(\s+)namespace: payments/, 'name: worker-b\n$1namespace: web'),
    );
    await waitFor('worker-b refused', async () => (await fetchVia(ledger, '127.0.0.3')) === '', 20_000);
    expect(await fetchVia(ledger, '127.0.0.2')).toMatch(/hello from/);

    // The configuration: the ledger now takes namespace web instead of payments.
    await writeFile(config, configText.replace('namespace != "payments"', 'namespace != "web"'));
    await waitFor(
      'the frontend allowed',
      async () => /hello from/.test(await fetchVia(ledger, '127.0.0.4')),
      20_000,
    );
    expect(await fetchVia(ledger, '127.0.0.2')).toBe('');
    // The decision service follows the same edit (the printed line asks about 127.0.0.2).
    await waitFor(
      'the decision API refuses worker-a',
      async () => JSON.parse((await bash(api[0]!)).out).allowed === false,
      20_000,
    );

    // A bad edit of the pods file: said in one line, with the pod count kept.
    await writeFile(pods, `${podsText}  - [unclosed\n`);
    await waitFor(
      'the bad pods file reported',
      () => /keeping the last good state \(\d+ pods\)/.test(stderr),
      20_000,
    );
    expect(stderr).toMatch(
      /^podgate dev: pods file unusable; keeping the last good state \(5 pods\): .*pods\.yaml:\d+:\d+/m,
    );

    const ports = [
      ledger,
      ...[...stdout.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])),
      ...Object.values(upstreams),
    ];
    proc.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('still running'), 20_000)),
    ]);
    expect(code, said()).toBe(0);
    expect(stderr).toContain('SIGINT, stopping');
    for (const port of new Set(ports)) expect(await listening(port), `port ${port}`).toBe(false);
  }, 180_000);

  it('refuses a bad --refresh (2) and a broken pods file at start (1), each in one line', async () => {
    const bad = await bash(`${bin} dev --refresh abc`);
    expect(bad.code).toBe(2);
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'apiVersion: v1\nkind: List\nitems:\n  - [unclosed\n');
    const { stderr, code } = await run(bin, ['dev', '--pods-file', broken], { cwd: root }).then(
      () => ({ stderr: '', code: 0 }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^podgate dev: --pods-file: .*broken\.yaml:\d+:\d+: /m);
    expect(stderr).not.toMatch(/keeping the last good state/);
    expect(stderr).not.toMatch(/^\{/m);
  }, 60_000);
});
