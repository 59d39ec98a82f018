import { describe, expect, it } from 'vitest';
import { redisCli, startRedis } from './redis.js';

describe('RedisServer.kill', () => {
  it('kills the server (a crash: no shutdown, data gone) and a new one starts on its port', async () => {
    const first = await startRedis();
    await redisCli(first.port, ['SET', 'k', 'v']);
    await first.kill('SIGKILL');
    await expect(redisCli(first.port, ['PING'])).rejects.toThrow();
    const second = await startRedis({ port: first.port });
    try {
      expect(await redisCli(second.port, ['GET', 'k'])).toBe('');
    } finally {
      await second.stop();
      await first.stop(); // already gone: resolves at once
    }
  });
});
