import { parseConfig, presentOnly } from '@podgate/runtime';
import { describe, expect, it } from 'vitest';
import {
  clusterFlagInput,
  readerStoreFlagsSchema,
  redactUrl,
  storeFlagsHelp,
  storeFlagsInput,
  storeFlagsSchema,
  toStoreOptions,
} from './store-flags.js';

const parseReader = (values: Record<string, string | string[]>, env: Record<string, string> = {}) =>
  parseConfig(
    readerStoreFlagsSchema,
    presentOnly({ ...storeFlagsInput(values, env), clusters: clusterFlagInput(values, env, 'default') }),
  );

describe('the store flags', () => {
  it('take --redis over REDIS_URL, and nothing means the embedded store', () => {
    expect(storeFlagsInput({ redis: 'redis://a:1' }, { REDIS_URL: 'redis://b:2' }).redisUrl).toBe(
      'redis://a:1',
    );
    expect(storeFlagsInput({}, { REDIS_URL: 'redis://b:2' }).redisUrl).toBe('redis://b:2');
    const parsed = parseConfig(storeFlagsSchema, presentOnly(storeFlagsInput({}, { REDIS_URL: '' })));
    expect(parsed.ok && toStoreOptions(parsed.config)).toEqual({});
  });

  it('turn into the options openStore takes', () => {
    const parsed = parseConfig(
      storeFlagsSchema,
      presentOnly(storeFlagsInput({ 'redis-cluster': 'a:1,[::1]:2', 'key-prefix': 'x:' }, {})),
    );
    expect(parsed.ok && toStoreOptions(parsed.config, { lookupTimeoutMs: 50 })).toEqual({
      clusterNodes: [
        { host: 'a', port: 1 },
        { host: '::1', port: 2 },
      ],
      keyPrefix: 'x:',
      lookupTimeoutMs: 50,
    });
  });

  it('name the flag of every problem, all at once', () => {
    const parsed = parseReader({
      redis: 'redis://a:99999',
      'key-prefix': 'a{b}',
      cluster: ['ok', 'no/slash'],
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message.split('\n')).toEqual([
      expect.stringMatching(/^--redis: expected redis:\/\/.*port out of range/),
      expect.stringMatching(/^--key-prefix: may not contain \{ or \}/),
      expect.stringMatching(/^--cluster: invalid cluster name "no\/slash"/),
    ]);
    expect(parseReader({ redis: 'redis://a:1', 'redis-cluster': 'b:2' }).ok || 'refused').toBe('refused');
  });

  it('never echo a password in the messages', () => {
    const parsed = parseReader({ redis: 'redis://u:hunter2@a:99999' });
    expect(parsed.ok || parsed.message).not.toContain('hunter2');
    expect(redactUrl('rediss://u:hunter2@a:1/0')).toBe('rediss://***@a:1/0');
  });

  it('give readers --cluster values, else PODGATE_CLUSTER, else default', () => {
    expect(clusterFlagInput({ cluster: ['a', 'b'] }, { PODGATE_CLUSTER: 'env' }, 'default')).toEqual([
      'a',
      'b',
    ]);
    expect(clusterFlagInput({}, { PODGATE_CLUSTER: 'env' }, 'default')).toEqual(['env']);
    expect(clusterFlagInput({}, {}, 'default')).toEqual(['default']);
    expect(clusterFlagInput({}, {})).toBeUndefined();
    expect(parseReader({})).toEqual({ ok: true, config: { clusters: ['default'] } });
  });

  it('are documented once, for writers and readers', () => {
    expect(storeFlagsHelp('writer')).toMatch(
      /--redis URL[\s\S]*--redis-cluster[\s\S]*--key-prefix[\s\S]*required/,
    );
    expect(storeFlagsHelp('reader')).toMatch(/--cluster NAME\s+a cluster to consult \(repeatable/);
  });
});
