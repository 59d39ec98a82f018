import net from 'node:net';
import type { CompiledEndpoint } from '@podgate/policy';
import { afterEach, describe, expect, it } from 'vitest';
import { type ListenerPlan, ListenerSet } from './listeners.js';

// A reload that finishes while the service stops hands the set an apply after (or during) its
// close(): the set must not reopen a listener then, or the process keeps accepting with its
// store closed and never exits.

const sets: ListenerSet[] = [];
afterEach(async () => {
  for (const set of sets.splice(0)) await set.close();
});

const plan = (key: string, port = 0): ListenerPlan => ({
  key,
  endpoint: { url: new URL(key) } as unknown as CompiledEndpoint,
  address: { host: '127.0.0.1', port },
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe.each([false, true])('ListenerSet (raw %s)', (raw) => {
  it('opens nothing for an apply that comes after close()', async () => {
    const set = new ListenerSet(() => {}, raw);
    sets.push(set);
    await set.apply([plan('tcp://a.ns:1')]);
    const [bound] = set.bound();
    await set.close();
    await set.apply([plan('tcp://a.ns:1', bound!.port)]);
    expect(set.bound()).toEqual([]);
    expect(await refused(bound!.port)).toBe(true);
  });

  it('closes what an apply in progress at close() opens', async () => {
    const set = new ListenerSet(() => {}, raw);
    sets.push(set);
    const applying = set.apply([plan('tcp://a.ns:1'), plan('tcp://b.ns:2')]);
    const closing = set.close();
    await Promise.all([applying, closing]);
    expect(set.bound()).toEqual([]);
  });
});
