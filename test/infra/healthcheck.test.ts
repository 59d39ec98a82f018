// The image's HEALTHCHECK script (packages/cli/bin/healthcheck.js), run as the image runs it,
// against real HTTP servers on loopback: which port it probes comes from the service's
// command line (given as arguments here; /proc/1/cmdline in a container).
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = new URL('../../packages/cli/bin/healthcheck.js', import.meta.url).pathname;
const servers: Server[] = [];

async function serve(status: number): Promise<number> {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/readyz' ? status : 404;
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function probe(...args: string[]): Promise<{ code: number; stdout: string }> {
  return run(process.execPath, [script, ...args]).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('healthcheck.js', () => {
  it('is healthy when the service answers 200 on its --listen address', async () => {
    const port = await serve(200);
    const r = await probe('proxy', '--config', '/c.yaml', '--listen', `127.0.0.1:${port}`);
    expect(r).toEqual({ code: 0, stdout: `http://127.0.0.1:${port}/readyz: 200\n` });
  });

  it('probes a wildcard listen address on loopback (--listen=0.0.0.0:PORT)', async () => {
    const port = await serve(200);
    expect((await probe('decision', `--listen=0.0.0.0:${port}`)).code).toBe(0);
  });

  it('is unhealthy on any other status', async () => {
    const port = await serve(503);
    expect(await probe('watcher', '--listen', `127.0.0.1:${port}`)).toMatchObject({ code: 1 });
  });

  it('is unhealthy when nothing listens', async () => {
    const port = await serve(200);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const r = await probe('watcher', '--cluster', 'a', `--listen=127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`http://127.0.0.1:${port}/readyz`);
  });

  it('has nothing to probe for a command that is no service', async () => {
    expect(await probe('validate', 'x.yaml')).toEqual({
      code: 0,
      stdout: 'podgate validate: no service to probe\n',
    });
  });
});
