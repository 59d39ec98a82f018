// POST /v1/validate: a YAML body (one or more documents) loaded as `podgate validate` loads a
// file, on its own (not merged with the service's configuration). 200 with what it holds
// (each endpoint, dry-run ones marked) and the warnings; 422 invalid_policy with every
// diagnostic, each also as the `file:line:column: severity: message` line validate prints.
// The loading runs in the validation worker (validate/pool.ts), never on this thread: 422
// validation_limit when a text needs more than its deadline or heap, 503 busy when too many
// wait.
import type { Hono } from 'hono';
import type { ValidateResult, Validator } from '../../validate/pool.js';
import type { AppContext, AppEnv, RouteContext } from '../context.js';
import { ApiError } from '../errors.js';
import { jsonResponse } from '../respond.js';

const MiB = 1024 * 1024;

/** `diagnostics_omitted` only when some were left out. */
const omitted = (count: number) => (count > 0 ? { diagnostics_omitted: count } : {});

export function registerValidate(app: Hono<AppEnv>, route: RouteContext, validator: Validator): void {
  app.post('/v1/validate', async (c: AppContext) => {
    // Full now: refused before the body is read and decoded, which costs this thread too.
    if (validator.full) return answer(route, validator, { kind: 'busy', reason: 'queue' }, 0);
    const text = await c.req.text();
    if (text.trim() === '') {
      throw new ApiError('invalid_request', 'the body is empty: expected YAML (endpoints and policies)');
    }
    const result = await validator.validate(text);
    return answer(route, validator, result, text.length);
  });
}

function answer(route: RouteContext, validator: Validator, result: ValidateResult, length: number): Response {
  const { logger } = route.deps;
  switch (result.kind) {
    case 'done': {
      const { outcome } = result;
      if (outcome.valid) {
        const { endpoints, policies, diagnostics } = outcome;
        return jsonResponse(200, {
          valid: true,
          endpoints,
          policies,
          diagnostics,
          ...omitted(outcome.omitted),
        });
      }
      const count = outcome.errorCount;
      return route.respond(
        'invalid_policy',
        `${count} error${count === 1 ? '' : 's'}; configuration refused`,
        {
          extra: { diagnostics: outcome.diagnostics, ...omitted(outcome.omitted) },
        },
      );
    }
    case 'busy':
      return route.respond(
        'busy',
        result.reason === 'stopping'
          ? 'the service is stopping; send it to another replica'
          : 'validations are already running and waiting; retry shortly',
        { headers: { 'retry-after': '1' } },
      );
    case 'limit': {
      const { timeoutMs, maxHeapBytes } = validator.limits;
      const message =
        result.reason === 'time'
          ? `validation stopped after ${timeoutMs} ms (--validate-timeout): the configuration takes too long to load here`
          : `validation stopped: loading the configuration needed more than ${maxHeapBytes / MiB} MiB (--validate-memory)`;
      logger.warn({ bytes: length, limit: result.reason }, message);
      return route.respond('validation_limit', `${message}; split it, or run podgate validate on it`);
    }
    case 'failed':
      logger.error({ bytes: length, reason: result.message }, 'validation failed in its worker');
      return route.respond('internal_error', 'internal error; the service log has the details');
  }
}
