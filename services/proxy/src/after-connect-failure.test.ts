import type { Decision, ForwardTarget } from '@podgate/policy';
import { describe, expect, it } from 'vitest';
import { afterConnectFailure } from './after-connect-failure.js';

const target = (port: number) => ({ host: '127.0.0.1', port }) as unknown as ForwardTarget;
const decision = (d: Partial<Decision>): Decision =>
  ({ allowed: true, action: 'forward-internal', logs: [], vars: {}, ...d }) as Decision;
const failure = { code: 'connect_refused', message: 'refused' } as const;

describe('afterConnectFailure', () => {
  it('ends a forward without on_error: continue, with the failure as its ending', () => {
    const current = decision({ target: target(1) });
    expect(afterConnectFailure(current, failure)).toEqual({
      next: 'refuse',
      end: 'connect_refused',
      decision: current,
    });
  });

  it('resumes with the failure and connects to the next target the policy names', () => {
    const seen: unknown[] = [];
    const next = decision({ target: target(2) });
    const current = decision({
      target: target(1),
      resume: (f) => {
        seen.push(f);
        return next;
      },
    });
    expect(afterConnectFailure(current, failure)).toEqual({
      next: 'connect',
      decision: next,
      target: target(2),
    });
    expect(seen).toEqual([failure]);
  });

  it('refuses as denied when the resumed policy refuses or names no target', () => {
    for (const next of [decision({ allowed: false, action: 'deny' }), decision({})]) {
      const current = decision({ target: target(1), resume: () => next });
      expect(afterConnectFailure(current, failure)).toEqual({
        next: 'refuse',
        end: 'denied',
        decision: next,
      });
    }
  });

  it('never resumes a refusal', () => {
    const current = decision({
      allowed: false,
      action: 'deny',
      resume: () => decision({ target: target(3) }),
    });
    expect(afterConnectFailure(current, failure)).toMatchObject({ next: 'refuse', end: 'connect_refused' });
  });
});
