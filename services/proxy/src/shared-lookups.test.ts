import type { LookupResult } from '@podgate/identity';
import { describe, expect, it } from 'vitest';
import { sharedLookups } from './shared-lookups.js';

const found = (uid: string): LookupResult => ({
  ok: true,
  identity: {
    cluster: 'c',
    uid,
    name: uid,
    namespace: 'n',
    annotations: {},
    errorCode: '',
    errorMessage: '',
  },
});

describe('shared lookups', () => {
  it('shares a lookup of one IP within the window, and only of that IP', async () => {
    let t = 0;
    const asked: string[] = [];
    const shared = sharedLookups(
      async (ip) => {
        asked.push(ip);
        return found(`${ip}#${asked.length}`);
      },
      2,
      () => t,
    );
    const a = shared.lookup('10.0.0.1');
    t = 1.9;
    const b = shared.lookup('10.0.0.1');
    const other = shared.lookup('10.0.0.2');
    expect(await b).toBe(await a);
    expect(asked).toEqual(['10.0.0.1', '10.0.0.2']);
    // At the window's end a new lookup is sent, even if the old one was never answered.
    t = 2;
    const c = shared.lookup('10.0.0.1');
    expect(await c).not.toBe(await a);
    expect(asked).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.1']);
    expect(shared.stats).toEqual({ sent: 3, shared: 1 });
    void other;
  });

  it('window 0: every connection its own lookup', async () => {
    const asked: string[] = [];
    const shared = sharedLookups(
      async (ip) => {
        asked.push(ip);
        return found(ip);
      },
      0,
      () => 0,
    );
    await Promise.all([shared.lookup('10.0.0.1'), shared.lookup('10.0.0.1')]);
    expect(asked).toEqual(['10.0.0.1', '10.0.0.1']);
  });

  it('forgets expired entries, so a stream of distinct IPs does not grow memory', async () => {
    let t = 0;
    const shared = sharedLookups(
      async (ip) => found(ip),
      1,
      () => t,
    );
    for (let i = 0; i < 100_000; i++) {
      t = i * 2;
      await shared.lookup(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    }
    expect(shared.stats.sent).toBe(100_000);
    expect(shared.size()).toBeLessThanOrEqual(1024);
  });
});
