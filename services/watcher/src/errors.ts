// The watcher's typed errors. Codes are the `config` and `kubernetes` areas of the
// project's error table (@podgate/errors), where each has its meaning; the HTTP status of
// an API reply rides along.
import { type ErrorCodeIn, hasErrorCode, PodgateError } from '@podgate/errors';

export type WatcherErrorCode = ErrorCodeIn<'config' | 'kubernetes'>;

export class WatcherError extends PodgateError<WatcherErrorCode> {
  readonly statusCode: number | undefined;

  constructor(code: WatcherErrorCode, message: string, options?: { cause?: unknown; statusCode?: number }) {
    super(code, message, options);
    this.name = 'WatcherError';
    this.statusCode = options?.statusCode;
  }
}

/** The store refused a write because a newer writer fenced the cluster (ADR 0003). */
export function isFenced(error: unknown): boolean {
  return hasErrorCode(error, 'fenced');
}
