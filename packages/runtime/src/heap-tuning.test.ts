// The flag heap-tuning.ts sets must be one this Node.js knows: V8 answers an unknown flag with a
// line of output and carries on, so a rename in a later V8 would silently undo the tuning.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runInFreshNode } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import {
  HEAP_GROWING_PERCENT,
  maglevWarning,
  NO_MAGLEV_FLAG,
  NO_PRETENURING_FLAG,
  tuneHeapGrowth,
} from './heap-tuning.js';

const modulePath = fileURLToPath(new URL('./heap-tuning.ts', import.meta.url));

/** Everything a fresh Node.js prints (stdout, then stderr) while running `code` as a module. */
function printed(code: string, nodeFlags: string[] = []): string {
  const run = runInFreshNode(code, nodeFlags);
  expect(run.status).toBe(0);
  return run.stdout + run.stderr;
}

describe('tuneHeapForRequests', () => {
  it('sets a V8 flag this Node.js recognises', () => {
    expect(NO_PRETENURING_FLAG).toBe('--no-allocation-site-pretenuring');
    expect(printed(`const m = await import(${JSON.stringify(modulePath)}); m.tuneHeapForRequests();`)).toBe(
      '',
    );
  });

  it('leaves V8 alone when node was started with --allocation-site-pretenuring', () => {
    expect(
      printed(
        `const m = await import(${JSON.stringify(modulePath)}); console.log(m.tuneHeapForRequests(['--allocation-site-pretenuring']), m.tuneHeapForRequests([]));`,
      ),
    ).toBe('false true\n');
  });

  it('would notice a flag V8 does not know', () => {
    expect(
      printed(`(await import('node:v8')).default.setFlagsFromString('--no-such-podgate-flag');`),
    ).toMatch(/unrecognized flag --no-such-podgate-flag/);
  });
});

describe('tuneHeapGrowth', () => {
  const load = `const m = await import(${JSON.stringify(modulePath)});`;

  it('sets a growing factor this Node.js recognises: 300% unless told otherwise', () => {
    expect(HEAP_GROWING_PERCENT).toBe(300);
    expect(printed(`${load} console.log(m.tuneHeapGrowth([]));`)).toBe('--heap-growing-percent=300\n');
  });

  it('is honoured by the running V8: the next full collection sets its limit with that factor', () => {
    // V8 says the limit it sets after each full collection with --trace-gc-verbose. Its own
    // factor is at most 4; a limit past 5 times the live size shows a factor set from JavaScript
    // after start-up is read (were it read only at start, the limit would stay within 4x).
    const out = printed(`${load} m.tuneHeapGrowth([], 1000); globalThis.gc();`, [
      '--expose-gc',
      '--trace-gc-verbose',
    ]);
    const limits = [...out.matchAll(/\[HeapController\] Limit: old size: (\d+) KB, new limit: (\d+) KB/g)];
    expect(limits.length).toBeGreaterThan(0);
    const [, live, limit] = limits.at(-1)!;
    expect(Number(limit) / Number(live)).toBeGreaterThan(5);
  });

  it('leaves V8 alone when node was given a growing factor (either spelling)', () => {
    expect(tuneHeapGrowth(['--heap-growing-percent=100'])).toBeNull();
    expect(tuneHeapGrowth(['--heap_growing_percent=100'])).toBeNull();
    expect(printed(`${load} console.log(m.tuneHeapGrowth(['--max-old-space-size=512']));`)).toBe(
      '--heap-growing-percent=300\n',
    );
  });
});

describe('maglevWarning', () => {
  it('warns on Node.js 24 and later unless node was told --no-maglev or --maglev', () => {
    expect(maglevWarning('20.20.2', [])).toBeNull();
    expect(maglevWarning('22.12.0', [])).toBeNull();
    expect(maglevWarning('24.0.0', [])).toMatch(/--no-maglev/);
    expect(maglevWarning('24.21.0', ['--no-maglev'])).toBeNull();
    expect(maglevWarning('24.21.0', ['--maglev'])).toBeNull();
    expect(maglevWarning('24.21.0', ['--max-old-space-size=512'])).toMatch(/Maglev/);
  });

  it('names a flag this Node.js accepts on its command line', () => {
    const run = spawnSync(process.execPath, [NO_MAGLEV_FLAG, '-e', ''], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toBe('');
  });
});
