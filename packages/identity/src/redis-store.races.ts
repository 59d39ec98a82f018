// Interleavings only a multi-connection store has: writes of one pod from two writers (an
// old leader's write still in flight while the new leader writes, ADR 0003). A write is
// held mid-way by a BLPOP queued on the writer's own connection ahead of it (a real Redis
// processes nothing behind a blocked command), so the order is exact, not timing luck.
import type { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisIdentityStore } from './redis-store.js';
import { eventually, record } from './store.contract.js';

type Client = Redis | Cluster;
type Script = (...args: string[]) => Promise<unknown>;

const clientOf = (store: RedisIdentityStore) => (store as unknown as { client: Client }).client;

/** After the store's next SET_POD succeeds, its writes to `ip`'s slot wait until `release()`. */
function holdClaimWritesTo(store: RedisIdentityStore, gateKey: string): void {
  const client = clientOf(store) as unknown as Record<string, Script> & Client;
  const setPod = client.podgateSetPod!;
  client.podgateSetPod = async (...args: string[]) => {
    const reply = await setPod.apply(client, args);
    client.podgateSetPod = setPod;
    client.blpop(gateKey, 0).catch(() => undefined);
    return reply;
  };
}

async function blockedClients(store: RedisIdentityStore): Promise<number> {
  const client = clientOf(store);
  const nodes: Redis[] = 'nodes' in client ? client.nodes('master') : [client];
  let blocked = 0;
  for (const node of nodes) {
    const list = (await node.call('CLIENT', 'LIST')) as string;
    blocked += list.split('\n').filter((line) => line.includes('cmd=blpop')).length;
  }
  return blocked;
}

export function describeRedisRaces(name: string, open: (keyPrefix: string) => Promise<RedisIdentityStore>) {
  describe(`redis store races: ${name}`, () => {
    const opened: RedisIdentityStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('an old writer’s claim landing after a newer release leaves no stale claim', async () => {
      const prefix = `race${process.pid}-${Date.now()}:`;
      const oldLeader = await open(prefix);
      const newLeader = await open(prefix);
      opened.push(oldLeader, newLeader);
      await newLeader.heartbeat('a', 60_000);
      await newLeader.refreshFreshness();
      await oldLeader.claim('a', record('u1', ['10.0.0.1'], '5'));

      // The old leader moves u1 to 10.0.0.2 at 6: SET_POD lands, the IP write is held.
      const gate = `${prefix}gate:{10.0.0.2}`;
      holdClaimWritesTo(oldLeader, gate);
      const late = oldLeader.claim('a', record('u1', ['10.0.0.2'], '6'));
      await eventually(async () => expect(await blockedClients(newLeader)).toBe(1));
      // The new leader sees u1 deleted at 7; its release finds no claim on 10.0.0.2 yet.
      await newLeader.release('a', 'u1', '7');
      await clientOf(newLeader).lpush(gate, 'go');
      await late;

      expect(await newLeader.lookup('10.0.0.2', ['a'])).toMatchObject({ ok: false, reason: 'not_found' });
      expect(await newLeader.lookup('10.0.0.1', ['a'])).toMatchObject({ ok: false, reason: 'not_found' });
    });
  });
}
