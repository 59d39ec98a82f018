import { describe, expect, it } from 'vitest';
import { changedRows, clientRows, formatTable } from './verdicts.js';

describe('clientRows', () => {
  it('takes each pod first IP in canonical form, notes why a pod may own none, and adds an unknown client', () => {
    const rows = clientRows(
      [
        {
          metadata: { name: 'a', namespace: 'n' },
          status: { phase: 'Running', podIPs: [{ ip: '::FFFF:127.0.0.2' }] },
        },
        { metadata: { name: 'job', namespace: 'n' }, status: { phase: 'Succeeded', podIP: '127.0.0.5' } },
        {
          metadata: { name: 'host', namespace: 'n' },
          spec: { hostNetwork: true },
          status: { podIP: '127.0.0.6' },
        },
        { metadata: { name: 'pending', namespace: 'n' }, status: { phase: 'Pending' } },
        { metadata: { name: 'junk', namespace: 'n' }, status: { podIP: 'not-an-ip' } },
      ],
      '127.0.0.99',
    );
    expect(rows).toEqual([
      { label: 'n/a', ip: '127.0.0.2' },
      { label: 'n/job (Succeeded)', ip: '127.0.0.5' },
      { label: 'n/host (hostNetwork)', ip: '127.0.0.6' },
      { label: '(no pod)', ip: '127.0.0.99' },
    ]);
  });
});

describe('formatTable and changedRows', () => {
  const before = [
    ['client', 'ip', 'e'],
    ['a', '1', 'allow'],
    ['b', '2', 'deny'],
  ];
  it('aligns columns', () => {
    expect(formatTable(before)).toBe('client  ip  e\na       1   allow\nb       2   deny');
  });
  it('lists only rows whose cells changed', () => {
    const after = [before[0]!, ['a', '1', 'allow'], ['b', '2', 'allow']];
    expect(changedRows(before, after)).toEqual([['b', '2', 'allow']]);
    expect(changedRows(before, before)).toEqual([]);
  });
});
