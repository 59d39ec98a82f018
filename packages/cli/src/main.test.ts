import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from './main.js';
import { captureIo } from './test-io.js';

describe('podgate', () => {
  it('prints the command list with --help and exits 0', async () => {
    const { io, captured } = captureIo();
    expect(await main(['--help'], io)).toBe(0);
    for (const c of COMMANDS) expect(captured.stdout).toContain(c.name);
  });

  it('exits 2 without a command, and on an unknown one', async () => {
    const a = captureIo();
    expect(await main([], a.io)).toBe(2);
    const b = captureIo();
    expect(await main(['frobnicate'], b.io)).toBe(2);
    expect(b.captured.stderr).toContain("unknown command 'frobnicate'");
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help prints usage and exits 0', async (name) => {
    const { io, captured } = captureIo();
    expect(await main([name, '--help'], io)).toBe(0);
    expect(captured.stdout.length).toBeGreaterThan(40);
  });

  it('turns an unknown flag into a usage error that names the command', async () => {
    const { io, captured } = captureIo();
    expect(await main(['validate', '--frob'], io)).toBe(2);
    expect(captured.stderr).toMatch(/podgate validate: .*--frob/);
  });

  it('says plainly that a planned subcommand is not built', async () => {
    const { io, captured } = captureIo();
    expect(await main(['proxy'], io)).toBe(2);
    expect(captured.stderr).toContain('not built yet');
  });
});
