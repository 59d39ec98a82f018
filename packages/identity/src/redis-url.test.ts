import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from './redis-url.js';

describe('parseRedisUrl', () => {
  it.each([
    ['redis://127.0.0.1:6380', { mode: 'single', nodes: [{ host: '127.0.0.1', port: 6380 }], tls: false }],
    ['redis://redis', { mode: 'single', nodes: [{ host: 'redis', port: 6379 }], tls: false }],
    [
      'rediss://user:p%40ss@redis.example:6390/2',
      {
        mode: 'single',
        nodes: [{ host: 'redis.example', port: 6390 }],
        tls: true,
        username: 'user',
        password: 'p@ss',
        db: 2,
      },
    ],
    [
      'redis://:secret@[::1]:7000',
      { mode: 'single', nodes: [{ host: '::1', port: 7000 }], tls: false, password: 'secret' },
    ],
    [
      'redis+cluster://a:7000,b:7001',
      {
        mode: 'cluster',
        nodes: [
          { host: 'a', port: 7000 },
          { host: 'b', port: 7001 },
        ],
        tls: false,
      },
    ],
    [
      'redis://a:7000,b',
      {
        mode: 'cluster',
        nodes: [
          { host: 'a', port: 7000 },
          { host: 'b', port: 6379 },
        ],
        tls: false,
      },
    ],
    ['rediss+cluster://c:1', { mode: 'cluster', nodes: [{ host: 'c', port: 1 }], tls: true }],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it.each([
    'http://redis:6379',
    'redis://',
    'redis://a:99999',
    'redis://a:1/x',
    'redis+cluster://a:1,b:2/3',
    'redis://:%zz@a',
  ])('refuses %s without echoing it', (url) => {
    expect(() => parseRedisUrl(url)).toThrow(/invalid Redis URL/);
    try {
      parseRedisUrl(url);
    } catch (err) {
      expect((err as Error).message).not.toContain(url);
    }
  });
});
