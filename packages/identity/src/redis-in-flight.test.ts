import { EventEmitter } from 'node:events';
import { type RedisServer, startRedis } from '@podgate/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import type { PodRecord } from './model.js';
import { InFlightWrites } from './redis-in-flight.js';
import { createRedisIdentityStore, type RedisIdentityStore } from './redis-store.js';

const pod: PodRecord = {
  uid: 'uid-a',
  name: 'a',
  namespace: 'payments',
  annotations: {},
  errorCode: '',
  errorMessage: '',
  ips: ['10.9.0.1'],
  resourceVersion: '7',
};

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('InFlightWrites', () => {
  it('fails what is pending when the connection closes, once, with store_unavailable', async () => {
    const connection = new EventEmitter();
    const writes = new InFlightWrites(connection);
    const command = deferred<string>();
    const guarded = writes.guard(command.promise);
    connection.emit('close');
    await expect(guarded).rejects.toMatchObject({ code: 'store_unavailable' });
    // The command's own late failure (ioredis' timeout) is swallowed, not unhandled.
    command.reject(new Error('Command timed out'));
    await new Promise((r) => setImmediate(r));
  });

  it('does not fail a write answered just before the close, in the same turn', async () => {
    const connection = new EventEmitter();
    const writes = new InFlightWrites(connection);
    const command = deferred<string>();
    const guarded = writes.guard(command.promise);
    // As ioredis does it, in one socket callback: the reply resolves the command, then the
    // socket's 'close' comes on the next tick, which Node runs before any promise reaction.
    setImmediate(() => {
      command.resolve('OK');
      process.nextTick(() => connection.emit('close'));
    });
    await expect(guarded).resolves.toBe('OK');
  });

  it('leaves later writes alone: only those pending at the close fail', async () => {
    const connection = new EventEmitter();
    const writes = new InFlightWrites(connection);
    const before = writes.guard(deferred<string>().promise);
    connection.emit('close');
    await expect(before).rejects.toMatchObject({ code: 'store_unavailable' });
    const after = deferred<string>();
    const guarded = writes.guard(after.promise);
    after.resolve('OK');
    await expect(guarded).resolves.toBe('OK');
  });
});

describe('a write in flight when Redis crashes', () => {
  let redis: RedisServer | undefined;
  let restarted: RedisServer | undefined;
  let store: RedisIdentityStore | undefined;
  afterEach(async () => {
    await store?.close();
    await restarted?.stop();
    redis?.resume();
    await redis?.stop();
  });

  // A hung Redis (SIGSTOP) holds the write unanswered; it is then killed and a new one starts
  // on its port, which the client reconnects to at once. ioredis alone failed the write after
  // its 5 s command timeout (5,005 ms, measured).
  it.each(['claim', 'heartbeat'] as const)(
    'fails the %s when the connection closes, not at the command timeout',
    async (kind) => {
      redis = await startRedis();
      store = await createRedisIdentityStore({ url: redis.url, keyPrefix: 'inflight:' });
      await store.reconcile('c1', []);
      redis.pause();
      const started = performance.now();
      const write = kind === 'claim' ? store.claim('c1', pod) : store.heartbeat('c1', 60_000);
      const failed = write.then(
        () => null,
        (error: unknown) => ({ error, after: performance.now() - started }),
      );
      await new Promise((r) => setTimeout(r, 100));
      await redis.kill('SIGKILL');
      restarted = await startRedis({ port: redis.port });
      const outcome = await failed;
      expect(outcome?.error).toMatchObject({ code: 'store_unavailable' });
      expect(outcome!.after).toBeLessThan(3_000);
      // The store goes on over the new connection.
      await expect
        .poll(
          () =>
            store!.claim('c1', pod).then(
              () => true,
              () => false,
            ),
          { timeout: 5_000 },
        )
        .toBe(true);
    },
  );
});
