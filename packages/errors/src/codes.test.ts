import { describe, expect, it } from 'vitest';
import { codesIn, ERROR_CODES, type ErrorCode, type ErrorCodeInfo, isErrorCode } from './codes.js';
import { errorBody, httpStatus } from './http.js';
import { errorMessage, hasErrorCode, PodgateError } from './podgate-error.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('the error table', () => {
  it.each(codes)('%s is snake_case, has a meaning and a valid status', (code) => {
    expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    const info: ErrorCodeInfo = ERROR_CODES[code];
    expect(info.meaning).toMatch(/^[A-Za-z`].{10,}\.$/);
    if (info.status !== undefined) expect(info.status).toBeGreaterThanOrEqual(400);
    if (info.status !== undefined) expect(info.status).toBeLessThan(600);
  });

  it('selects codes by area, in table order', () => {
    expect(codesIn('lookup')).toEqual(['not_found', 'ambiguous', 'stale_cluster']);
    expect(codesIn('policy', 'store')).toEqual([
      'invalid_store_options',
      'store_unavailable',
      'fenced',
      'policy_eval_error',
      'forward_internal_error',
      'policy_no_match',
    ]);
  });

  it('knows its own codes and nothing else', () => {
    expect(isErrorCode('fenced')).toBe(true);
    expect(isErrorCode('FENCED')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });
});

describe('HTTP answers', () => {
  it('take the status from the table, 500 where no API answers the code', () => {
    expect(httpStatus('invalid_request')).toBe(400);
    expect(httpStatus('store_unavailable')).toBe(503);
    expect(httpStatus('fenced')).toBe(500);
    expect(errorBody('unknown_endpoint', 'no endpoint tcp://a.b:1')).toEqual({
      error: { code: 'unknown_endpoint', message: 'no endpoint tcp://a.b:1' },
    });
  });
});

describe('PodgateError', () => {
  it('carries its code and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new PodgateError('store_unavailable', 'cannot connect', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'PodgateError',
      code: 'store_unavailable',
      message: 'cannot connect',
    });
    expect(error.cause).toBe(cause);
    expect('cause' in new PodgateError('fenced', 'x')).toBe(false);
  });

  it('is recognised by code', () => {
    const error = new PodgateError('fenced', 'refused');
    expect(hasErrorCode(error)).toBe(true);
    expect(hasErrorCode(error, 'fenced', 'invalid_ip')).toBe(true);
    expect(hasErrorCode(error, 'invalid_ip')).toBe(false);
    expect(hasErrorCode(new Error('fenced'), 'fenced')).toBe(false);
  });

  it('errorMessage gives one line for anything thrown', () => {
    expect(errorMessage(new TypeError('bad'))).toBe('bad');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});
