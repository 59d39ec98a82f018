// A service whose stdout is not read (a stalled log collector) keeps serving in bounded memory:
// `podgate decision`, its stdout a pipe this test stops reading, answers tens of thousands of
// decisions; once the test reads again, every decision is either a log line or counted in the
// warning line that says how many were dropped. Without the bound every line would wait in the
// process's memory, and none would be dropped. Found with it: stdout is a non-blocking pipe
// here, as under most log collectors, and a full pipe's EAGAIN made the writer drop whole
// batches without a word (435 of 40,000 decision lines came out); it now writes them again.
// Runs the sources' writer through the decision service; the proxy shares it (runtime).
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { waitFor } from '@podgate/test-support';
import { afterAll, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from './decision-support.js';

const bin = new URL('../packages/cli/bin/podgate.js', import.meta.url).pathname;
/** More lines than the writer holds (16 MiB at about 600 bytes a line is about 28,000). */
const REQUESTS = 40_000;
const CONCURRENCY = 32;
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
});

it('drops and counts log lines past its bound while stdout is not read, and says so first when it is', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  delete env.REDIS_URL;
  child = spawn(
    process.execPath,
    [bin, 'decision', '--config', EXAMPLE_CONFIG, '--insecure-no-auth', '--listen', '127.0.0.1:0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
  };
  child.stdout!.on('data', onData);
  const serving = await waitFor(
    'the decision service to serve',
    () => out.split('\n').find((l) => l.includes('"serving /v1')),
    20_000,
  );
  const port = Number(
    String((JSON.parse(serving) as { listen: string }).listen)
      .split(':')
      .at(-1),
  );
  // Stop reading: the pipe fills, and the service's log writes wait for it.
  child.stdout!.off('data', onData);
  child.stdout!.pause();
  const before = out.split('\n').filter((l) => l.includes('"msg":"decision"')).length;

  /** `n` decisions over CONCURRENCY keep-alive connections; resolves with how many were answered 200. */
  const decide = async (n: number): Promise<number> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const body = JSON.stringify({ endpoint: 'tcp://ledger.payments:5432', client_ip: '10.9.8.7' });
    let sent = 0;
    let answered = 0;
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/v1/decisions',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) answered++;
              resolve();
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < n) {
          sent++;
          await one();
        }
      }),
    );
    agent.destroy();
    return answered;
  };
  const answered = await decide(REQUESTS);
  expect(answered).toBe(REQUESTS);

  // Read again: what waited comes out, then (at the writer's next interval) the note.
  child.stdout!.on('data', onData);
  child.stdout!.resume();
  const lines = () => out.split('\n').filter((l) => l.startsWith('{'));
  const note = await waitFor(
    'the dropped-lines warning',
    () => lines().find((l) => l.includes('"dropped"')),
    20_000,
  );
  const parsed = JSON.parse(note) as { level: number; dropped: number; service: string };
  expect(parsed.level).toBe(40);
  expect(parsed.service).toBe('podgate-decision');
  expect(parsed.dropped).toBeGreaterThan(0);
  // Every decision is a line or counted as dropped; nothing lost without a word.
  await waitFor(
    'every decision logged or counted',
    () =>
      lines().filter((l) => l.includes('"msg":"decision"')).length - before + parsed.dropped >= REQUESTS ||
      undefined,
    20_000,
  );
  const logged = lines().filter((l) => l.includes('"msg":"decision"')).length - before;
  expect(logged + parsed.dropped).toBe(REQUESTS);
  for (const l of lines()) JSON.parse(l); // every line whole
  // The same count on /metrics, for an alert.
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toContain(`podgate_decision_log_lines_dropped_total ${parsed.dropped}`);

  // Stopped while its stdout is not read again: it exits (0) instead of waiting for a reader.
  child.stdout!.off('data', onData);
  child.stdout!.pause();
  await decide(20_000);
  const stopping = performance.now();
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const still = new Promise<string>((resolve) =>
    setTimeout(() => resolve('still running after 15 s'), 15_000).unref(),
  );
  expect(await Promise.race([exited, still])).toBe(0);
  expect(performance.now() - stopping).toBeLessThan(15_000);
}, 120_000);
