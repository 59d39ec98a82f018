import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const examples = new URL('../../../../examples/', import.meta.url).pathname;

async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An HTTP GET through the proxy from `from`; what came back before the close. */
function fetchVia(port: number, from: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () =>
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(text));
  });
}

describe('podgate dev', () => {
  it('prints verdicts, re-prints the rows a pods-file edit changes, keeps the last good config, stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podgate-dev-'));
    const pods = join(dir, 'pods.yaml');
    const config = join(dir, 'podgate.yaml');
    await copyFile(join(examples, 'pods.yaml'), pods);
    await copyFile(join(examples, 'podgate.yaml'), config);
    const { io, captured, stop } = captureIo();
    const running = main(['dev', '--config', config, '--pods-file', pods, '--refresh', '50'], io);

    await eventually(() => captured.stdout.includes('Try, in another terminal'), 'the first table');
    const ledgerColumn = (line: string | undefined) => line?.split(/\s{2,}/)[2];
    const row = (name: string) => captured.stdout.split('\n').find((l) => l.startsWith(name));
    expect(ledgerColumn(row('payments/worker-b'))).toBe('allow (rule 3)');
    expect(ledgerColumn(row('web/frontend-7d9f8'))).toBe('deny (rule 2)');
    expect(captured.stderr).toContain('embedded in-memory store');

    // The proxy serves the endpoints: an allowed pod reaches the demo upstream, a refused one
    // is closed without a byte.
    const port = Number(/tcp:\/\/ledger\.payments:5432\s+127\.0\.0\.1:(\d+)/.exec(captured.stdout)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await fetchVia(port, '127.0.0.2')).toMatch(
      /^HTTP\/1\.1 200 OK[\s\S]*hello from tcp:\/\/ledger\.payments\.internal:5432/,
    );
    expect(await fetchVia(port, '127.0.0.4')).toBe('');
    expect(captured.stdout).toContain(`curl --interface 127.0.0.2 http://127.0.0.1:${port}/`);

    // The decision API answers with the token it printed.
    const api = /The decision API is on (http:\/\/127\.0\.0\.1:\d+) \(bearer token (\S+)\)/.exec(
      captured.stdout,
    );
    expect(api).not.toBeNull();
    const answer = await fetch(`${api![1]}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api![2]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'tcp://ledger.payments:5432', client_ip: '127.0.0.4' }),
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ allowed: false, action: 'deny', rule: { number: 2 } });
    expect((await fetch(`${api![1]}/v1/decisions`, { method: 'POST' })).status).toBe(401);

    // worker-b moves to namespace web: the ledger now refuses it.
    const text = await readFile(pods, 'utf8');
    await writeFile(
      pods,
      text.replace(/name: worker-b\n(\s+)namespace: payments/, 'name: worker-b\n$1namespace: web'),
    );
    await eventually(() => captured.stdout.includes('changed:'), 'the changed rows');
    const after = captured.stdout.slice(captured.stdout.indexOf('changed:'));
    expect(ledgerColumn(after.split('\n').find((l) => l.startsWith('web/worker-b')))).toBe('deny (rule 2)');

    // A broken configuration is refused and the last good one kept.
    await writeFile(config, 'on_tcp_connect:\n  - actions:\n      - type: teleport\n');
    await eventually(
      () => /podgate\.yaml:3:\d+: error: .*teleport/.test(captured.stderr),
      'the refused reload',
    );
    expect(captured.stderr).toContain('keeping the last good configuration');
    expect(captured.stderr).not.toMatch(/configuration reloaded/);

    stop('SIGTERM');
    expect(await running).toBe(0);
    expect(captured.stderr).toContain('SIGTERM, stopping');
  });

  it('exits 1 with the errors when the configuration is invalid at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podgate-dev-'));
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'kind: Nope\n');
    const { io, captured } = captureIo();
    expect(await main(['dev', '--config', config, '--pods-file', join(examples, 'pods.yaml')], io)).toBe(1);
    expect(captured.stderr).toContain('bad.yaml:1:');
  });
});
