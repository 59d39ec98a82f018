// The installed `podgate` bin, run as a user runs it: a real process through tsx.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../node_modules/.bin/podgate', import.meta.url).pathname;
const root = new URL('..', import.meta.url).pathname;

describe('podgate bin', () => {
  it('validates the example configuration and exits 0', async () => {
    const { stdout } = await run(bin, ['validate', 'examples/podgate.yaml'], { cwd: root });
    expect(stdout).toMatch(/examples\/podgate\.yaml: ok/);
  });

  it('exits non-zero with a message on a file it cannot read', async () => {
    const error = await run(bin, ['validate', 'does-not-exist.yaml'], { cwd: root }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain('does-not-exist.yaml: error: cannot read file');
  });
});
