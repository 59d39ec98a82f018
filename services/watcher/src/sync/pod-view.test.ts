import type { PodRecord } from '@podgate/identity';
import { describe, expect, it } from 'vitest';
import { keyOf, PodView, type StoreOp } from './pod-view.js';

const rec = (
  uid: string,
  name: string,
  ips: string[],
  rv: string,
  extra: Partial<PodRecord> = {},
): PodRecord => ({
  uid,
  name,
  namespace: 'ns',
  annotations: {},
  errorCode: '',
  errorMessage: '',
  ips,
  resourceVersion: rv,
  ...extra,
});

const summary = (ops: StoreOp[]) =>
  ops.map((op) =>
    op.kind === 'claim'
      ? `claim ${op.record.uid} [${op.record.ips.join(',')}] @${op.record.resourceVersion}`
      : `release ${op.uid} @${op.resourceVersion}`,
  );

describe('PodView.upsert', () => {
  const cases: Array<{
    name: string;
    before: PodRecord[];
    event: PodRecord;
    outcome: string;
    ops: string[];
  }> = [
    {
      name: 'a new pod is claimed',
      before: [],
      event: rec('u1', 'a', ['10.0.0.1'], '5'),
      outcome: 'claimed',
      ops: ['claim u1 [10.0.0.1] @5'],
    },
    {
      name: 'a pod that gets its IP is claimed again',
      before: [rec('u1', 'a', [], '5')],
      event: rec('u1', 'a', ['10.0.0.1'], '6'),
      outcome: 'claimed',
      ops: ['claim u1 [10.0.0.1] @6'],
    },
    {
      name: 'an IP change is a claim with the new IPs only',
      before: [rec('u1', 'a', ['10.0.0.1'], '5')],
      event: rec('u1', 'a', ['10.0.0.2'], '7'),
      outcome: 'claimed',
      ops: ['claim u1 [10.0.0.2] @7'],
    },
    {
      name: 'a pod turning terminal (no IPs) is a claim of nothing, which releases',
      before: [rec('u1', 'a', ['10.0.0.1'], '5')],
      event: rec('u1', 'a', [], '8'),
      outcome: 'claimed',
      ops: ['claim u1 [] @8'],
    },
    {
      name: 'an annotation change is written',
      before: [rec('u1', 'a', ['10.0.0.1'], '5')],
      event: rec('u1', 'a', ['10.0.0.1'], '9', { annotations: { 'k8s.ngrok.com/x': 'y' } }),
      outcome: 'claimed',
      ops: ['claim u1 [10.0.0.1] @9'],
    },
    {
      name: 'a change the store does not hold (status conditions) writes nothing',
      before: [rec('u1', 'a', ['10.0.0.1', 'fd00::1'], '5')],
      event: rec('u1', 'a', ['fd00::1', '10.0.0.1'], '9'),
      outcome: 'unchanged',
      ops: [],
    },
    {
      name: 'an older version than the view holds is ignored',
      before: [rec('u1', 'a', ['10.0.0.2'], '9')],
      event: rec('u1', 'a', ['10.0.0.1'], '8'),
      outcome: 'stale',
      ops: [],
    },
    {
      name: 'numeric, not lexical, version order',
      before: [rec('u1', 'a', ['10.0.0.1'], '9')],
      event: rec('u1', 'a', ['10.0.0.2'], '10'),
      outcome: 'claimed',
      ops: ['claim u1 [10.0.0.2] @10'],
    },
    {
      name: 'the same name with a new UID releases the old pod and claims the new one',
      before: [rec('u1', 'a', ['10.0.0.1'], '5')],
      event: rec('u2', 'a', ['10.0.0.1'], '12'),
      outcome: 'replaced',
      ops: ['release u1 @12', 'claim u2 [10.0.0.1] @12'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = new PodView();
      view.replaceAll(c.before);
      const { outcome, ops } = view.upsert(c.event);
      expect(outcome).toBe(c.outcome);
      expect(summary(ops)).toEqual(c.ops);
    });
  }

  it('keeps the newer state after a stale event', () => {
    const view = new PodView();
    view.upsert(rec('u1', 'a', ['10.0.0.2'], '9'));
    view.upsert(rec('u1', 'a', ['10.0.0.1'], '8'));
    expect(view.get('u1')?.ips).toEqual(['10.0.0.2']);
  });
});

describe('PodView.remove', () => {
  it('releases by UID at the newest known version, even when the final state is stale', () => {
    const view = new PodView();
    view.upsert(rec('u1', 'a', ['10.0.0.1'], '20'));
    // A delete carrying an older copy of the pod (and a different IP).
    const ops = view.remove(rec('u1', 'a', ['10.0.0.9'], '15'));
    expect(summary(ops)).toEqual(['release u1 @20']);
    expect(view.size).toBe(0);
  });

  it('a late delete of a replaced pod does not drop the new pod under that name', () => {
    const view = new PodView();
    view.upsert(rec('u1', 'a', ['10.0.0.1'], '5'));
    view.upsert(rec('u2', 'a', ['10.0.0.2'], '6'));
    expect(summary(view.remove(rec('u1', 'a', ['10.0.0.1'], '7')))).toEqual(['release u1 @7']);
    expect(view.get('u2')?.ips).toEqual(['10.0.0.2']);
    // A later update of u2 still maps to its name.
    expect(view.upsert(rec('u2', 'a', ['10.0.0.3'], '8')).outcome).toBe('claimed');
  });

  it('a delete of a pod never seen still releases it (idempotent in the store)', () => {
    expect(summary(new PodView().remove(rec('u9', 'z', [], '3')))).toEqual(['release u9 @3']);
  });
});

describe('PodView.replaceAll', () => {
  it('replaces the view and releases pods that vanished, at the listing version', () => {
    const view = new PodView();
    view.replaceAll([rec('u1', 'a', ['10.0.0.1'], '5'), rec('u2', 'b', ['10.0.0.2'], '30')]);
    const vanished = view.replaceAll([rec('u1', 'a', ['10.0.0.1'], '5')], '40');
    expect(summary(vanished)).toEqual(['release u2 @40']);
    expect(view.records().map((r) => r.uid)).toEqual(['u1']);
  });

  it('keeps the newer of two pods listed under one name', () => {
    const view = new PodView();
    view.replaceAll([rec('u2', 'a', ['10.0.0.2'], '9'), rec('u1', 'a', ['10.0.0.1'], '5')]);
    expect(view.records().map((r) => r.uid)).toEqual(['u2']);
  });
});

/** One step of a history: a listing (records@version), an upsert or a delete. */
type Step = { listing: PodRecord[]; at: string } | { upsert: PodRecord } | { remove: PodRecord };

const run = (view: PodView, step: Step) => {
  if ('listing' in step) return { outcome: 'listing', ops: view.replaceAll(step.listing, step.at) };
  if ('upsert' in step) return view.upsert(step.upsert);
  return { outcome: 'removed', ops: view.remove(step.remove) };
};

describe('PodView refuses replayed events (nothing older than what it knows of a pod applies)', () => {
  const web1 = (rv: string, ips = ['127.0.0.2']) => rec('uid-web-1', 'web', ips, rv);
  const web2 = (rv: string, ips = ['127.0.0.3']) => rec('uid-web-2', 'web', ips, rv);
  const cases: Array<{
    name: string;
    history: Step[];
    replay: PodRecord;
    outcome: string;
    ops: string[];
    holds: Record<string, string[]>;
  }> = [
    {
      name: 'ADDED replayed after its DELETED',
      history: [{ upsert: web1('1001') }, { remove: web1('1002') }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'MODIFIED replayed after its DELETED (the release remembers the end, not the event)',
      history: [{ upsert: web1('1001') }, { upsert: web1('1005') }, { remove: web1('1003') }],
      replay: web1('1004'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'ADDED of a pod deleted before the listing (the listing would have held it)',
      history: [{ listing: [], at: '1003' }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'ADDED at exactly the listing version (equal is not newer)',
      history: [{ listing: [], at: '1001' }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'a pod that vanished from a listing, replayed',
      history: [
        { listing: [web1('1001')], at: '1001' },
        { listing: [], at: '1010' },
      ],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'shrunk finding: LISTING@1001 [web#1], DELETED@1002, ADDED@1003 web#2 [], replay ADDED@1001 web#1',
      history: [
        { listing: [web1('1001')], at: '1001' },
        { remove: web1('1002') },
        { upsert: web2('1003', []) },
      ],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: { 'uid-web-2': [] },
    },
    {
      name: 'an older UID under a held name does not release the holder',
      history: [{ upsert: web1('1001') }, { remove: web1('1002') }, { upsert: web2('1003') }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: { 'uid-web-2': ['127.0.0.3'] },
    },
    {
      name: 'an older UID under a held name, never seen deleted, does not release the holder',
      history: [{ upsert: web2('1003') }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: { 'uid-web-2': ['127.0.0.3'] },
    },
    {
      name: 'a newer UID under a held name releases the holder',
      history: [{ upsert: web1('1001') }],
      replay: web2('1003'),
      outcome: 'replaced',
      ops: ['release uid-web-1 @1003', 'claim uid-web-2 [127.0.0.3] @1003'],
      holds: { 'uid-web-2': ['127.0.0.3'] },
    },
    {
      name: 'a pod released by a replacement, replayed at a version before the replacement',
      history: [{ upsert: web1('1001') }, { upsert: web2('1003') }, { remove: web2('1004') }],
      replay: web1('1002'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'a duplicate of the held version',
      history: [{ upsert: web1('1001') }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: { 'uid-web-1': ['127.0.0.2'] },
    },
    {
      name: 'a duplicate of the listed version',
      history: [{ listing: [web1('1001')], at: '1005' }],
      replay: web1('1001'),
      outcome: 'stale',
      ops: [],
      holds: { 'uid-web-1': ['127.0.0.2'] },
    },
    {
      name: 'a new pod after a listing is claimed',
      history: [{ listing: [web1('1001')], at: '1005' }, { remove: web1('1006') }],
      replay: web2('1007'),
      outcome: 'claimed',
      ops: ['claim uid-web-2 [127.0.0.3] @1007'],
      holds: { 'uid-web-2': ['127.0.0.3'] },
    },
    {
      name: 'versions are compared as integers: 999 is older than a listing at 1000',
      history: [{ listing: [], at: '1000' }],
      replay: web1('999'),
      outcome: 'stale',
      ops: [],
      holds: {},
    },
    {
      name: 'versions that cannot be ordered: the later arrival is newer (as in the store)',
      history: [{ listing: [], at: '1000' }],
      replay: web1('opaque-7'),
      outcome: 'claimed',
      ops: ['claim uid-web-1 [127.0.0.2] @opaque-7'],
      holds: { 'uid-web-1': ['127.0.0.2'] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = new PodView();
      for (const step of c.history) run(view, step);
      const { outcome, ops } = view.upsert(c.replay);
      expect(outcome).toBe(c.outcome);
      expect(summary(ops)).toEqual(c.ops);
      expect(Object.fromEntries(view.records().map((r) => [r.uid, r.ips]))).toEqual(c.holds);
    });
  }

  it('a listing older than a release it saw does not bring the pod back', () => {
    const view = new PodView();
    view.upsert(web1('1001'));
    view.remove(web1('1004'));
    view.replaceAll([web1('1001')], '1003');
    expect(view.size).toBe(0);
  });

  it('past its bound it forgets the oldest releases and refuses what they covered, not newer pods', () => {
    const view = new PodView(2);
    for (let i = 1; i <= 4; i++) {
      view.upsert(rec(`u${i}`, `p${i}`, [`127.0.0.${i + 1}`], String(100 + i)));
      view.remove(rec(`u${i}`, `p${i}`, [], String(200 + i)));
    }
    expect(view.releasesRemembered).toBe(2);
    // u1 and u2 are forgotten (ended at 201, 202): a replay of either is still refused.
    expect(view.upsert(rec('u1', 'p1', ['127.0.0.2'], '101')).outcome).toBe('stale');
    expect(view.upsert(rec('u2', 'p2', ['127.0.0.3'], '102')).outcome).toBe('stale');
    // An event of a new pod, delivered in order, is newer than every release before it.
    expect(view.upsert(rec('u5', 'p5', ['127.0.0.6'], '205')).outcome).toBe('claimed');
  });

  it('a listing drops the releases its version covers', () => {
    const view = new PodView();
    view.upsert(web1('1001'));
    view.remove(web1('1002'));
    view.upsert(web2('1003'));
    view.remove(web2('1004'));
    view.replaceAll([], '1003');
    expect(view.releasesRemembered).toBe(1); // web2 ended at 1004, after the listing
    expect(view.upsert(web1('1001')).outcome).toBe('stale');
    expect(view.upsert(web2('1003')).outcome).toBe('stale');
  });
});

describe('PodView keys pods by their uncut namespace/name', () => {
  it('an over-long name cut to a real pod name does not take that pod for recreated', () => {
    const view = new PodView();
    const real = rec('u-real', 'n'.repeat(255), ['127.0.0.2'], '10');
    // What the watcher's deriver makes of a pod named 256 x n: cut, no IPs, the uncut key.
    const long = {
      ...rec('u-long', 'n'.repeat(255), [], '11'),
      uncutKey: keyOf('ns', 'n'.repeat(256)),
    };
    view.upsert(real);
    const { outcome, ops } = view.upsert(long);
    expect(outcome).toBe('claimed');
    expect(summary(ops)).toEqual(['claim u-long [] @11']);
    expect(view.get('u-real')?.ips).toEqual(['127.0.0.2']);
    // And a listing holds both.
    view.replaceAll([real, long], '12');
    expect(view.size).toBe(2);
  });

  it('a namespace and name never spell another pair', () => {
    expect(keyOf('a', 'b/c')).not.toBe(keyOf('a/b', 'c'));
  });
});
