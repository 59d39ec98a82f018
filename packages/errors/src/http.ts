// What Podgate's HTTP APIs answer for an error: the table's status and one body shape,
// `{"error": {"code", "message"}}`.
import { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from './codes.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** The table's status for `code`; 500 for a code no API is meant to answer. */
export function httpStatus(code: ErrorCode): number {
  const info: ErrorCodeInfo = ERROR_CODES[code];
  return info.status ?? 500;
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
