import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const seedDir = new URL('../../../../examples/seed/', import.meta.url).pathname;
const example = new URL('../../../../examples/podgate.yaml', import.meta.url).pathname;

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podgate-validate-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('podgate validate', () => {
  it('accepts every seed example, verbatim, each on its own', async () => {
    const files = (await readdir(seedDir)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const { io, captured } = captureIo();
      const code = await main(['validate', join(seedDir, file)], io);
      expect({ file, code, stderr: captured.stderr }).toMatchObject({ code: 0 });
      expect(captured.stdout).toMatch(new RegExp(`${file}: ok \\(`));
    }
  });

  it('warns, with file and line, about the seed example whose ! expression is unquoted', async () => {
    const files = (await readdir(seedDir)).filter((f) => f.endsWith('.yaml'));
    let warned = 0;
    for (const file of files) {
      const { io, captured } = captureIo();
      await main(['validate', join(seedDir, file)], io);
      if (/quote/i.test(captured.stderr)) {
        warned++;
        expect(captured.stderr).toMatch(new RegExp(`${file}:\\d+:\\d+: warning: .*quote`, 'i'));
      }
    }
    expect(warned).toBe(1);
  });

  it('accepts the example configuration with a summary line', async () => {
    const { io, captured } = captureIo();
    expect(await main(['validate', example], io)).toBe(0);
    expect(captured.stdout).toMatch(/podgate\.yaml: ok \(4 endpoints, 1 traffic policy\)/);
  });

  it('refuses a bad file with file:line:column and exits 1', async () => {
    const path = await tempFile(
      'typo.yaml',
      [
        'on_tcp_connect:',
        '  - expressions:',
        '      - conn.k8s.pod.metadata.namspace != "payments"',
        '    actions:',
        '      - type: deny',
        '',
      ].join('\n'),
    );
    const { io, captured } = captureIo();
    expect(await main(['validate', path], io)).toBe(1);
    expect(captured.stdout).toBe('');
    expect(captured.stderr).toMatch(/typo\.yaml:3:\d+: error: .*namspace/);
  });

  it('refuses the whole set when one of several files is bad', async () => {
    const bad = await tempFile('bad.yaml', 'on_tcp_connect:\n  - actions:\n      - type: teleport\n');
    const { io, captured } = captureIo();
    expect(await main(['validate', example, bad], io)).toBe(1);
    expect(captured.stdout).toBe('');
    expect(captured.stderr).toMatch(/bad\.yaml:3:\d+: error: .*teleport/);
  });

  it('names a file it cannot read', async () => {
    const { io, captured } = captureIo();
    expect(await main(['validate', '/nonexistent/podgate.yaml'], io)).toBe(1);
    expect(captured.stderr).toContain('/nonexistent/podgate.yaml: error: cannot read file: ENOENT');
  });

  it('loads files together (one URL, one endpoint) unless told to check each on its own', async () => {
    const files = (await readdir(seedDir)).filter((f) => f.endsWith('.yaml')).map((f) => join(seedDir, f));
    const together = captureIo();
    expect(await main(['validate', ...files], together.io)).toBe(1);
    expect(together.captured.stderr).toMatch(
      /error: url http:\/\/example-service\.my-namespace is also used by/,
    );
    const each = captureIo();
    expect(await main(['validate', '--each', ...files], each.io)).toBe(0);
    expect(each.captured.stdout.trim().split('\n')).toHaveLength(files.length);
  });

  it('needs at least one file', async () => {
    const { io } = captureIo();
    expect(await main(['validate'], io)).toBe(2);
  });
});
