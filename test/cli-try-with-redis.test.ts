// docs/try-with-redis.md's commands, run by bash as they are written: the watcher, eval, the
// proxy and the decision service as separate processes on a Redis of the test's own, started in
// the background, waited for with their /readyz, used, and stopped with kill. Only the ports
// differ (free ones), and the test's Redis replaces the block's redis-server line.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RedisServer, startRedis } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listening, shellBlock } from './cli-support.js';

const root = new URL('..', import.meta.url).pathname;

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'try-with-redis-'));
});
afterAll(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('docs/try-with-redis.md', () => {
  it('runs as written: the services start in the background, answer, and stop on kill with exit 0', async () => {
    const doc = await readFile(join(root, 'docs/try-with-redis.md'), 'utf8');
    const ports = {
      9464: await freePort(),
      9465: await freePort(),
      9466: await freePort(),
      15432: await freePort(),
      15433: await freePort(),
      15434: await freePort(),
      15435: await freePort(),
    };
    // The ledger's upstream port is in the example configuration: a copy names the free one.
    const config = join(dir, 'podgate.yaml');
    const example = await readFile(join(root, 'examples/podgate.yaml'), 'utf8');
    expect(example).toContain('tcp://127.0.0.1:15432');
    await writeFile(config, example.replaceAll('127.0.0.1:15432', `127.0.0.1:${ports[15432]}`));

    let script = shellBlock(doc)
      .split('\n')
      .filter((line) => !/^redis-(server|cli) /.test(line))
      .join('\n')
      .replaceAll('examples/podgate.yaml', config)
      .replace(/\b6391\b/g, String(redis.port));
    for (const [from, to] of Object.entries(ports))
      script = script.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));

    const child = spawn('bash', ['-c', `set -u\n${script}`], { cwd: root, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // A service that never gets ready would keep the block's `until` loop going: bounded here.
    const killAll = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const deadline = setTimeout(killAll, 120_000);
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    } finally {
      clearTimeout(deadline);
      killAll(); // whatever the block started and did not stop
    }
    const said = `stdout:\n${stdout}\nstderr:\n${stderr}`;
    expect(code, said).toBe(0);

    const lines = stdout.trim().split('\n');
    const decisions = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    // The eval's and the decision service's answers: the same decision for the frontend.
    expect(decisions, said).toHaveLength(2);
    for (const decision of decisions) {
      expect(decision).toMatchObject({
        allowed: false,
        action: 'deny',
        rule: { number: 2 },
        identity: { metadata: { name: 'frontend-7d9f8', namespace: 'web' }, cluster: 'dev' },
      });
    }
    expect(lines, said).toContain('hello from the ledger');
    expect(stdout, said).toMatch(/^refused: curl exit (52|56)$/m);
    expect(
      lines.filter((l) => l === 'exit 0'),
      said,
    ).toHaveLength(3);
    // Nothing the block started listens any more. Asked again for a while before failing: in a
    // full run another test's server (or a connect to a free port that reaches itself) can
    // answer on a port these services left moments ago.
    for (const port of Object.values(ports)) {
      let open = await listening(port);
      for (let i = 0; open && i < 30; i++) {
        await new Promise((r) => setTimeout(r, 100));
        open = await listening(port);
      }
      expect(open, `port ${port}`).toBe(false);
    }
  }, 150_000);
});
