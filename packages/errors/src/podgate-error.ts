// The base of every typed error in Podgate: a code from the table, a message for people,
// and the cause attached. Packages extend it with their own name and code subset
// (IdentityError, WatcherError), so `instanceof` still tells them apart.
import type { ErrorCode } from './codes.js';

export class PodgateError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PodgateError';
    this.code = code;
  }
}

/** A PodgateError (of any package), optionally with one of `codes`. */
export function hasErrorCode<C extends ErrorCode>(error: unknown, ...codes: C[]): error is PodgateError<C> {
  return error instanceof PodgateError && (codes.length === 0 || (codes as ErrorCode[]).includes(error.code));
}

/** One line of text for any thrown value (an Error's message, else its string form). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
