// `podgate watcher` through the CLI: flags reach the watcher, it serves, and the CLI's stop
// signal ends it cleanly (the watcher's own behaviour is tested in services/watcher and test/).

import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const pods = new URL('../../../../examples/pods.yaml', import.meta.url).pathname;

describe('podgate watcher (via the CLI)', () => {
  it('runs on a pods file with the embedded store until told to stop', async () => {
    const { io, captured, stop } = captureIo();
    const running = main(
      [
        'watcher',
        '--cluster',
        'cli-test',
        '--pods-file',
        pods,
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'silent',
      ],
      io,
    );
    await new Promise((r) => setTimeout(r, 300));
    stop('SIGTERM');
    expect(await running).toBe(0);
    expect(captured.stderr).toBe('');
  });

  it('refuses a bad flag value as bad usage (2) with a message naming the flag', async () => {
    const { io, captured } = captureIo();
    expect(await main(['watcher', '--cluster', 'bad name!', '--pods-file', pods], io)).toBe(2);
    expect(captured.stderr).toMatch(/cluster/);
  });
});
