import { describe, expect, it } from 'vitest';
import { checkCommandLine } from './check-command-line.js';

describe('checkCommandLine', () => {
  it.each([
    [['watcher', '--cluster', 'a', '--pods-file', '/pods.yaml', '--listen', '0.0.0.0:9464'], {}],
    [['watcher', '--leader-elect', '--listen=0.0.0.0:9464'], { PODGATE_CLUSTER: 'a' }],
    [['proxy', '--config', '/c.yaml', '--cluster', 'a', '--cluster', 'b'], { REDIS_URL: 'redis://r:6379' }],
    [['decision', '--config', '/c.yaml', '--token-file', '/t', '--listen', '0.0.0.0:9466'], {}],
  ])('accepts %j', (argv, env) => {
    expect(checkCommandLine(argv, env)).toEqual({ ok: true, command: argv[0] });
  });

  it.each([
    [['watcher', '--cluster', 'a', '--pods-fil', '/pods.yaml'], /Unknown option '--pods-fil'/],
    [['proxy', '--config', '/c.yaml', '--listen', 'nowhere'], /podgate proxy: .*listen/i],
    [['watcher', '--pods-file', '/p.yaml'], /podgate watcher: .*cluster/i],
    [['decision', '--config', '/c.yaml', '--token-file', '/t', 'extra'], /podgate decision: .*positional/i],
    [['proxy', '--config', '/c.yaml'], /podgate proxy: .*redis/i, { REDIS_URL: 'http://not-redis' }],
    [['validate', 'f.yaml'], /'validate' is not a service command/],
    [['constructor'], /not a service command/],
    [[], /'' is not a service command/],
  ] as const)('refuses %j', (argv, message, env?: Record<string, string>) => {
    const result = checkCommandLine(argv, env);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(message);
  });
});
