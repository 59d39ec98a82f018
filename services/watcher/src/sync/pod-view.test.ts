import type { PodRecord } from '@podgate/identity';
import { describe, expect, it } from 'vitest';
import { PodView, type StoreOp } from './pod-view.js';

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
