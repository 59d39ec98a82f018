import { describe, expect, it } from 'vitest';
import { humanLine } from './human-log.js';

describe('humanLine', () => {
  it('turns a JSON log line into its message and error', () => {
    const line = JSON.stringify({
      level: 50,
      service: 'podgate-dev',
      err: 'pods.yaml:3:1: bad indentation',
      path: 'pods.yaml',
      msg: 'pods file unusable; keeping the last good state (5 pods)',
    });
    expect(humanLine('podgate dev', `${line}\n`)).toBe(
      'podgate dev: pods file unusable; keeping the last good state (5 pods): pods.yaml:3:1: bad indentation',
    );
    expect(humanLine('podgate dev', '{"msg":"stopped"}')).toBe('podgate dev: stopped');
  });

  it('passes on a line that is not JSON', () => {
    expect(humanLine('podgate dev', 'plain text\n')).toBe('podgate dev: plain text');
  });
});
