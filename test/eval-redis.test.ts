// `podgate eval --redis`: identity written by a store writer (as the watcher does) and read
// back through the same code path the services use, against a real redis-server (and a
// Redis Cluster, through the same store flags the watcher takes).
import net from 'node:net';
import { main } from '@podgate/cli';
import { createRedisIdentityStore, derivePodRecord, type IdentityStore } from '@podgate/identity';
import { captureIo, type RedisServer, startRedis, startRedisCluster } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const config = new URL('../examples/podgate.yaml', import.meta.url).pathname;

function pod(name: string, namespace: string, uid: string, ip: string) {
  return {
    metadata: {
      name,
      namespace,
      uid,
      resourceVersion: '7',
      annotations: { 'k8s.ngrok.com/environment': 'production' },
    },
    spec: {},
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

/**
 * `podgate eval` with these arguments, its decision as JSON. A generous --lookup-timeout: these
 * tests are about which identity is read, and a loaded machine can miss the 200ms default.
 */
async function evalAnswered(args: string[], env: Record<string, string> = {}) {
  const { io, captured } = captureIo(env);
  const code = await main([...args, '--lookup-timeout', '10s'], io);
  expect({ code, stderr: captured.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(captured.stdout);
}

describe('podgate eval --redis', () => {
  let redis: RedisServer;
  let writer: IdentityStore;

  beforeAll(async () => {
    redis = await startRedis();
    writer = await createRedisIdentityStore({ url: redis.url, keyPrefix: 'evaltest:' });
    await writer.claim('east', derivePodRecord(pod('worker-a', 'payments', 'uid-east-a', '127.0.0.2')));
    await writer.claim('west', derivePodRecord(pod('frontend', 'web', 'uid-west-f', '127.0.0.4')));
    await writer.claim('west', derivePodRecord(pod('worker-x', 'payments', 'uid-west-x', '127.0.0.2')));
    await writer.heartbeat('east', 60_000);
    await writer.heartbeat('west', 60_000);
  });

  afterAll(async () => {
    await writer?.close();
    await redis?.stop();
  });

  async function evaluate(clientIp: string, clusters: string[]) {
    const args = [
      'eval',
      '--config',
      config,
      '--endpoint',
      'tcp://ledger.payments:5432',
      '--client-ip',
      clientIp,
    ];
    for (const c of clusters) args.push('--cluster', c);
    return evalAnswered([...args, '--key-prefix', 'evaltest:'], { REDIS_URL: redis.url });
  }

  it('reads the identity of the consulted cluster only', async () => {
    const east = await evaluate('127.0.0.2', ['east']);
    expect(east).toMatchObject({ allowed: true, action: 'forward-internal' });
    expect(east.identity).toMatchObject({
      id: 'uid-east-a',
      cluster: 'east',
      metadata: { name: 'worker-a' },
    });

    const west = await evaluate('127.0.0.4', ['west']);
    expect(west).toMatchObject({ allowed: false, action: 'deny', rule: { number: 2 } });
    expect(west.identity.metadata.namespace).toBe('web');
  });

  it('refuses an IP that two consulted clusters claim, as ambiguous', async () => {
    const both = await evaluate('127.0.0.2', ['east', 'west']);
    expect(both).toMatchObject({ allowed: false, action: 'deny', rule: { number: 1 } });
    expect(both.lookup).toMatchObject({ found: false, reason: 'ambiguous' });
    expect(both.identity.metadata.error_code).toBe('ERR_NGROK_28001');
  });

  it('does not find a pod of a cluster it was not told to consult', async () => {
    const other = await evaluate('127.0.0.4', ['east']);
    expect(other.lookup).toMatchObject({ found: false, reason: 'not_found' });
    expect(other.allowed).toBe(false);
  });
});

describe('podgate eval --redis-cluster', () => {
  it('reads identities from Redis Cluster seeds, as the watcher writes them', async () => {
    const cluster = await startRedisCluster();
    try {
      const writer = await createRedisIdentityStore({ clusterNodes: cluster.nodes });
      await writer.claim('rc', derivePodRecord(pod('worker-a', 'payments', 'uid-rc-a', '127.0.0.2')));
      await writer.heartbeat('rc', 60_000);
      await writer.close();
      const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
      const args = ['eval', '--config', config, '--endpoint', 'tcp://ledger.payments:5432'];
      const decision = await evalAnswered([
        ...args,
        ...['--client-ip', '127.0.0.2', '--redis-cluster', seeds, '--cluster', 'rc'],
      ]);
      expect(decision).toMatchObject({
        allowed: true,
        identity: { metadata: { name: 'worker-a' }, cluster: 'rc' },
      });
    } finally {
      await cluster.stop();
    }
  });

  it('says which seeds it could not reach, and exits 1', async () => {
    const { io, captured } = captureIo();
    const args = [
      'eval',
      '--config',
      config,
      '--endpoint',
      'tcp://ledger.payments:5432',
      '--client-ip',
      '127.0.0.2',
    ];
    expect(await main([...args, '--redis-cluster', '127.0.0.1:1'], io)).toBe(1);
    expect(captured.stderr).toMatch(
      /^podgate eval: --redis-cluster 127\.0\.0\.1:1: cannot connect to Redis at 127\.0\.0\.1:1: .*\(seeds: 127\.0\.0\.1:1 connection refused\)/,
    );
  });
});

/**
 * A relay to `port` that holds what the client sends from its first EVALSHA on (the lookup;
 * opening the store sends none) for `delayMs`, in order: a store that answers lookups slowly.
 */
async function slowLookupRelay(port: number, delayMs: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const redis = net.connect(port, '127.0.0.1');
    sockets.add(client).add(redis);
    client.on('error', () => redis.destroy());
    redis.on('error', () => client.destroy());
    redis.pipe(client);
    let slow = false;
    client.on('data', (chunk) => {
      slow ||= chunk.includes('EVALSHA');
      if (slow) setTimeout(() => redis.write(chunk), delayMs);
      else redis.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('podgate eval --lookup-timeout', () => {
  let redis: RedisServer;
  let relay: Awaited<ReturnType<typeof slowLookupRelay>>;

  beforeAll(async () => {
    redis = await startRedis();
    const writer = await createRedisIdentityStore({ url: redis.url });
    await writer.claim('default', derivePodRecord(pod('worker-a', 'payments', 'uid-a', '127.0.0.2')));
    await writer.heartbeat('default', 60_000);
    await writer.close();
    // Past the 200ms default, well within 10s.
    relay = await slowLookupRelay(redis.port, 600);
  });

  afterAll(async () => {
    relay?.close();
    await redis?.stop();
  });

  async function evaluate(timeout?: string) {
    const { io, captured } = captureIo();
    const args = ['eval', '--config', config, '--endpoint', 'tcp://ledger.payments:5432'];
    const code = await main(
      [
        ...args,
        ...['--client-ip', '127.0.0.2', '--redis', relay.url],
        ...(timeout === undefined ? [] : ['--lookup-timeout', timeout]),
      ],
      io,
    );
    expect({ code, stderr: captured.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(captured.stdout);
  }

  it('waits as long as it is told for a slow store', async () => {
    const decision = await evaluate('10s');
    expect(decision).toMatchObject({ allowed: true, identity: { metadata: { name: 'worker-a' } } });
  });

  it('gives up at its deadline, as the services do: store unavailable, the policy decides', async () => {
    const decision = await evaluate('50ms');
    expect(decision.lookup).toMatchObject({ found: false, reason: 'store_unavailable' });
    expect(decision.lookup.message).toMatch(/no answer within 50 ms/);
    expect(decision.identity.metadata.error_code).toBe('ERR_NGROK_28001');
    expect(decision.allowed).toBe(false);
  });

  it("defaults to the services' 200ms", async () => {
    const decision = await evaluate();
    expect(decision.lookup.message).toMatch(/no answer within 200 ms/);
  });

  it('is a duration, checked as the services check it (exit 2)', async () => {
    const { io, captured } = captureIo();
    const args = ['eval', '--config', config, '--client-ip', '127.0.0.2', '--redis', relay.url];
    expect(
      await main([...args, '--endpoint', 'tcp://ledger.payments:5432', '--lookup-timeout', 'soon'], io),
    ).toBe(2);
    expect(captured.stderr).toMatch(/--lookup-timeout: expected a duration of at least 1 ms/);
  });
});
