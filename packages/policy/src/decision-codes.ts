import type { ErrorCodeIn } from '@podgate/errors';

/** The closed set of `Decision.error.code` values: the `policy` area of the error table (@podgate/errors). */
export const DECISION_ERROR_CODES = {
  /** A CEL expression, interpolation or regex failed at run time. */
  evalError: 'policy_eval_error',
  /** forward-internal could not resolve its `${}` URL (on_error: halt). */
  forwardError: 'forward_internal_error',
  /** No rule ended evaluation on an endpoint that must (CloudEndpoint, standalone policy). */
  noMatch: 'policy_no_match',
} as const satisfies Record<string, ErrorCodeIn<'policy'>>;

export type DecisionErrorCode = (typeof DECISION_ERROR_CODES)[keyof typeof DECISION_ERROR_CODES];
