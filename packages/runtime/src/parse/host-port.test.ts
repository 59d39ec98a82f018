import { describe, expect, it } from 'vitest';
import {
  formatHostPort,
  hostPortListSchema,
  hostPortSchema,
  parseHostPort,
  parseHostPortList,
} from './host-port.js';

describe('parseHostPort', () => {
  it.each([
    ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::ffff:10.0.0.1]:1', { host: '::ffff:10.0.0.1', port: 1 }],
    ['redis-0.redis.svc:6379', { host: 'redis-0.redis.svc', port: 6379 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    [' 127.0.0.1:80 ', { host: '127.0.0.1', port: 80 }],
    ['nope', null],
    ['a:65536', null],
    ['::1:9464', null],
    ['[::1]', null],
    ['a:b', null],
    [':9464', null],
  ])('%j -> %j', (text, expected) => expect(parseHostPort(text)).toEqual(expected));

  it('fills in the default host for :PORT when it has one', () => {
    expect(parseHostPort(':9464', { defaultHost: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 9464 });
  });

  it('refuses ports below the minimum', () => {
    expect(parseHostPort('a:0', { minPort: 1 })).toBeNull();
  });

  it('formats IPv6 hosts in brackets', () => {
    expect(formatHostPort({ host: '::1', port: 7000 })).toBe('[::1]:7000');
    expect(formatHostPort({ host: '10.0.0.1', port: 7000 })).toBe('10.0.0.1:7000');
  });
});

describe('parseHostPortList', () => {
  it('reads comma-separated nodes, spaces allowed around them', () => {
    expect(parseHostPortList('a:1, [::1]:2')).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 2 },
    ]);
  });

  it.each(['', 'a:1,b', 'a:1,,b:2', 'a:0'])('refuses %j', (text) =>
    expect(parseHostPortList(text)).toBeNull(),
  );
});

describe('zod fields', () => {
  it('name the flag in their messages', () => {
    const listen = hostPortSchema('--listen', { defaultHost: '0.0.0.0', example: '0.0.0.0:9464' });
    expect(listen.parse(':1')).toEqual({ host: '0.0.0.0', port: 1 });
    expect(listen.safeParse('x').error?.issues[0]?.message).toBe(
      '--listen: expected HOST:PORT (e.g. 0.0.0.0:9464)',
    );
    const seeds = hostPortListSchema('--redis-cluster');
    expect(seeds.safeParse('a:1,b').error?.issues[0]?.message).toBe(
      '--redis-cluster: expected host:port[,host:port...]',
    );
  });
});
