// Every error the API answers: one body shape, `{"error": {"code", "message"}}`, with the
// status of the project's error table, counted by code. Handlers throw ApiError or call the
// responder; anything else thrown is logged with its stack and answered as internal_error,
// so no stack trace or internal detail reaches a caller.
import { type ErrorCode, errorBody, errorMessage, httpStatus, PodgateError } from '@podgate/errors';
import type { Logger } from '@podgate/runtime';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { DecisionMetrics } from '../metrics.js';
import { jsonResponse } from './respond.js';

export class ApiError extends PodgateError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'ApiError';
  }
}

export interface ErrorOptions {
  headers?: Record<string, string>;
  /** Fields beside `error` (validate's diagnostics). */
  extra?: Record<string, unknown>;
  /** Count it in podgate_decision_errors_total (default true; a forward-auth deny is a verdict, not an error). */
  count?: boolean;
}

export type ErrorResponder = (code: ErrorCode, message: string, options?: ErrorOptions) => Response;

export function errorResponder(metrics: DecisionMetrics): ErrorResponder {
  return (code, message, options = {}) => {
    if (options.count !== false) metrics.error(code);
    const body =
      options.extra === undefined
        ? errorBody(code, message)
        : { ...errorBody(code, message), ...options.extra };
    return jsonResponse(httpStatus(code), body, options.headers);
  };
}

/** The app's onError: ApiError as itself, Hono's own exceptions by status, anything else as internal_error. */
export function errorHandler(respond: ErrorResponder, logger: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof ApiError) return respond(error.code, error.message);
    if (error instanceof HTTPException && error.status === 413) {
      return respond('payload_too_large', 'the request body is too large');
    }
    if (error instanceof HTTPException && error.status < 500) {
      return respond('invalid_request', 'the request could not be read');
    }
    logger.error(
      { err: { message: errorMessage(error), stack: error.stack }, method: c.req.method, path: c.req.path },
      'internal error while answering a request',
    );
    return respond('internal_error', 'internal error; the service log has the details');
  };
}

/** A short, quoted rendering of caller input for a message. */
export function shown(text: string, max = 64): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}
