// Every package's codes are in the one error table (@podgate/errors), in one casing: the
// decision's codes, the lookup reasons, the identity and watcher error codes.
import { codesIn, ERROR_CODES, type ErrorCode, type ErrorCodeIn, isErrorCode } from '@podgate/errors';
import type { IdentityErrorCode, NotFoundReason } from '@podgate/identity';
import { DECISION_ERROR_CODES } from '@podgate/policy';
import type { WatcherErrorCode } from '@podgate/watcher';
import { describe, expect, expectTypeOf, it } from 'vitest';

/** Listing a reason here is checked by the compiler: a new NotFoundReason fails to type-check until added. */
const LOOKUP_REASONS: Record<NotFoundReason, true> = {
  not_found: true,
  ambiguous: true,
  store_unavailable: true,
  stale_cluster: true,
};

describe('one error vocabulary', () => {
  it('the decision codes are exactly the policy area of the table', () => {
    expect(Object.values(DECISION_ERROR_CODES).sort()).toEqual(codesIn('policy').sort());
  });

  it('every lookup reason is a code of the table (lookup area, or store_unavailable)', () => {
    for (const reason of Object.keys(LOOKUP_REASONS)) {
      expect(isErrorCode(reason), reason).toBe(true);
      expect(['lookup', 'store'], reason).toContain(ERROR_CODES[reason as ErrorCode].area);
    }
    expect(codesIn('lookup').every((code) => code in LOOKUP_REASONS)).toBe(true);
  });

  it("the identity and watcher code types are the table's areas (checked by the type checker)", () => {
    expectTypeOf<IdentityErrorCode>().toEqualTypeOf<ErrorCodeIn<'identity' | 'store'>>();
    expectTypeOf<WatcherErrorCode>().toEqualTypeOf<ErrorCodeIn<'config' | 'kubernetes'>>();
    expect(codesIn('identity', 'store')).toContain('store_unavailable');
  });
});
