import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';
import { type RedisCluster, type RedisServer, redisCli, startRedis, startRedisCluster } from './redis.js';

describe('the redis-server harness', () => {
  const started: Array<RedisServer | RedisCluster> = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('freePort gives distinct usable ports', async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });

  it('starts a server that answers, pauses, resumes and stops', async () => {
    const server = await startRedis();
    started.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await redisCli(server.port, ['SET', 'k', 'v'])).toBe('OK');
    server.pause();
    await expect(redisCliWithTimeout(server.port, ['PING'], 300)).rejects.toThrow();
    server.resume();
    expect(await redisCli(server.port, ['PING'])).toBe('PONG');
    await server.stop();
    await expect(redisCli(server.port, ['PING'])).rejects.toThrow();
  });

  it('requires the password when one is set', async () => {
    const server = await startRedis({ password: 'p@ss word' });
    started.push(server);
    expect(server.url).toBe(`redis://:p%40ss%20word@127.0.0.1:${server.port}`);
    expect(await redisCli(server.port, ['PING'], 'p@ss word')).toBe('PONG');
    expect(await redisCli(server.port, ['PING'])).toMatch(/NOAUTH/);
  });

  it('starts a 3-master cluster with every slot served', async () => {
    const cluster = await startRedisCluster();
    started.push(cluster);
    expect(cluster.nodes).toHaveLength(3);
    for (const node of cluster.nodes) {
      const info = await redisCli(node.port, ['CLUSTER', 'INFO']);
      expect(info).toMatch(/cluster_state:ok/);
      expect(info).toMatch(/cluster_slots_assigned:16384/);
      expect(info).toMatch(/cluster_known_nodes:3/);
    }
  });
});

async function redisCliWithTimeout(port: number, args: string[], ms: number): Promise<string> {
  return Promise.race([
    redisCli(port, args),
    new Promise<string>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms)),
  ]);
}
