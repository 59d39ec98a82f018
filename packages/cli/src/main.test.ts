import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from './main.js';

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

  it('reports an unreachable store in one line, without a stack, and exits 1', async () => {
    const { io, captured } = captureIo();
    const config = new URL('../../../examples/podgate.yaml', import.meta.url).pathname;
    const args = [
      'eval',
      '--config',
      config,
      '--client-ip',
      '127.0.0.2',
      '--endpoint',
      'tcp://ledger.payments:5432',
    ];
    expect(await main([...args, '--redis', 'redis://user:secret@127.0.0.1:1'], io)).toBe(1);
    expect(captured.stderr).toMatch(
      /^podgate eval: --redis redis:\/\/\*\*\*@127\.0\.0\.1:1: cannot connect to Redis/,
    );
    expect(captured.stderr).not.toContain('secret');
    expect(captured.stderr).not.toContain('    at ');
  });

  it('every subcommand is built: a service without its configuration says what is missing', async () => {
    const { io, captured } = captureIo();
    expect(await main(['decision'], io)).toBe(2);
    expect(captured.stderr).toMatch(/^podgate decision: invalid configuration:/);
    expect(captured.stderr).toContain('--config FILE is required');
    expect(captured.stderr).toContain('--token-file FILE is required');
    expect(captured.stderr).not.toContain('not built yet');
  });
});
