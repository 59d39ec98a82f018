// openStore (identity's one way to open a store, used by every command) against real
// servers: what each kind of failure says, and that bad options are refused before
// anything is contacted. (Lives here: the identity package holds no test files of this
// change; see docs/ARCHITECTURE.md.)
import { createServer, type Server, Socket } from 'node:net';
import { describeStore, IdentityError, openStore, storeKind } from '@podgate/identity';
import { freePort, type RedisServer, startRedis, startRedisCluster } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

let redis: RedisServer;
let secured: RedisServer;
beforeAll(async () => {
  [redis, secured] = await Promise.all([startRedis(), startRedis({ password: 's3cret' })]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), secured?.stop()]);
});

/** What openStore threw: its code and message. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => new Error('expected openStore to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IdentityError);
  return { code: (error as IdentityError).code, message: (error as IdentityError).message };
}

describe('openStore', () => {
  it('opens the embedded store without a URL, and Redis with one', async () => {
    expect(storeKind({})).toBe('memory');
    expect(describeStore({})).toBe('the embedded in-memory store');
    const memory = await openStore({});
    await memory.heartbeat('c', 60_000);
    await memory.close();
    const store = await openStore({ url: redis.url, keyPrefix: 'open:', clusters: ['c'] });
    await store.heartbeat('c', 60_000);
    expect((await store.lookup('10.0.0.1', ['c'])).ok).toBe(false);
    await store.close();
  });

  it('hands lookupFlushAfter to the lookup connection: lookups go out before the turn ends', async () => {
    const store = await openStore({
      url: redis.url,
      keyPrefix: 'flush:',
      clusters: ['c'],
      lookupFlushAfter: 2,
    });
    try {
      await store.heartbeat('c', 60_000);
      await store.lookup('10.0.0.1', ['c']); // the cluster is tracked: lookups take the connection
      const write = vi.spyOn(Socket.prototype, 'write');
      let during: number;
      let lookups: Promise<unknown>[];
      try {
        lookups = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => store.lookup(ip, ['c']));
        during = write.mock.calls.length;
      } finally {
        write.mockRestore();
      }
      expect(during).toBe(2);
      await Promise.all(lookups);
    } finally {
      await store.close();
    }
  });

  it('says where the store is, never the password', () => {
    expect(describeStore({ url: 'redis://u:pw@10.0.0.1:7000/2' })).toBe('Redis at 10.0.0.1:7000');
    expect(describeStore({ url: 'rediss+cluster://:pw@[::1]:7000,b:7001' })).toBe(
      'Redis Cluster (seeds [::1]:7000, b:7001)',
    );
    expect(storeKind({ clusterNodes: [{ host: 'a', port: 1 }] })).toBe('redis-cluster');
  });

  it('refuses bad options before contacting anything', async () => {
    expect(await failure(openStore({ url: 'http://x' }))).toMatchObject({ code: 'invalid_store_options' });
    expect(await failure(openStore({ url: redis.url, keyPrefix: 'a{b}' }))).toMatchObject({
      code: 'invalid_store_options',
    });
    expect(await failure(openStore({ clusterNodes: [] }))).toMatchObject({ code: 'invalid_store_options' });
    expect(await failure(openStore({ url: redis.url, clusters: ['a/b'] }))).toMatchObject({
      code: 'invalid_cluster_name',
    });
  });

  it('a refused connection names the address', async () => {
    const port = await freePort();
    const refused = await failure(openStore({ url: `redis://user:secret@127.0.0.1:${port}` }));
    expect(refused.code).toBe('store_unavailable');
    expect(refused.message).toMatch(
      new RegExp(`^cannot connect to Redis at 127\\.0\\.0\\.1:${port}: connection refused`),
    );
    expect(refused.message).not.toContain('secret');
  });

  it('says authentication failed, with or without a password, and never shows it', async () => {
    const none = await failure(openStore({ url: `redis://127.0.0.1:${secured.port}` }));
    expect(none.code).toBe('store_unavailable');
    expect(none.message).toMatch(/: authentication failed .*NOAUTH/);
    const wrong = await failure(openStore({ url: `redis://:nope@127.0.0.1:${secured.port}` }));
    expect(wrong.message).toMatch(/: authentication failed .*WRONGPASS/);
    expect(wrong.message).not.toContain('nope');
  });

  it('a server that accepts and never answers is a timeout; so is rediss:// against a plain server', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const plain = await failure(openStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 }));
      expect(plain).toEqual({
        code: 'store_unavailable',
        message: `cannot connect to Redis at 127.0.0.1:${port}: timed out after 300 ms`,
      });
      const tls = await failure(
        openStore({ url: `rediss://127.0.0.1:${redis.port}`, connectTimeoutMs: 300 }),
      );
      expect(tls.message).toMatch(
        new RegExp(
          `^cannot connect to Redis at 127\\.0\\.0\\.1:${redis.port}: timed out.*is the server speaking TLS`,
        ),
      );
    } finally {
      silent.close();
    }
  });

  it('Redis Cluster: says what each seed answered', async () => {
    // ioredis' own error names no seed and no reason; openStore asks the seeds.
    const port = await freePort();
    const refused = await failure(openStore({ clusterNodes: [{ host: '127.0.0.1', port }] }));
    expect(refused.code).toBe('store_unavailable');
    expect(refused.message).toMatch(
      new RegExp(
        `^cannot connect to Redis at 127\\.0\\.0\\.1:${port}: .*\\(seeds: 127\\.0\\.0\\.1:${port} connection refused\\)$`,
      ),
    );
    const notCluster = await failure(openStore({ clusterNodes: [{ host: '127.0.0.1', port: redis.port }] }));
    expect(notCluster.message).toMatch(/accepts connections/);
  });

  it('opens Redis Cluster from its seeds', async () => {
    const cluster = await startRedisCluster();
    try {
      const store = await openStore({ clusterNodes: cluster.nodes, clusters: ['rc'] });
      await store.heartbeat('rc', 60_000);
      await store.close();
    } finally {
      await cluster.stop();
    }
  });
});
