// POST /v1/validate: a YAML body (one or more documents) loaded as `podgate validate` loads a
// file, on its own (not merged with the service's configuration). 200 with what it holds
// (each endpoint, dry-run ones marked) and the warnings; 422 invalid_policy with every
// diagnostic, each also as the `file:line:column: severity: message` line validate prints.
import { type Diagnostic, formatDiagnostic, loadPolicyFiles } from '@podgate/policy';
import type { Hono } from 'hono';
import type { AppContext, AppEnv, RouteContext } from '../context.js';
import { ApiError } from '../errors.js';
import { jsonResponse } from '../respond.js';

/** The name diagnostics give the body. */
export const VALIDATE_FILE_NAME = 'request.yaml';

export function registerValidate(app: Hono<AppEnv>, route: RouteContext): void {
  app.post('/v1/validate', async (c: AppContext) => {
    const text = await c.req.text();
    if (text.trim() === '') {
      throw new ApiError('invalid_request', 'the body is empty: expected YAML (endpoints and policies)');
    }
    const result = loadPolicyFiles([{ path: VALIDATE_FILE_NAME, text }]);
    if (!result.ok) {
      const count = result.errors.length;
      return route.respond(
        'invalid_policy',
        `${count} error${count === 1 ? '' : 's'}; configuration refused`,
        {
          extra: { diagnostics: [...result.errors, ...result.warnings].map(diagnosticJson) },
        },
      );
    }
    const { config } = result;
    return jsonResponse(200, {
      valid: true,
      endpoints: config.endpoints.map((e) => ({
        url: e.url.href,
        kind: e.kind,
        name: e.name,
        namespace: e.namespace,
        dry_run: e.dryRun,
      })),
      policies: config.policies.map((p) => ({ kind: p.kind, name: p.name, namespace: p.namespace })),
      diagnostics: result.warnings.map(diagnosticJson),
    });
  });
}

function diagnosticJson(d: Diagnostic) {
  return {
    severity: d.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    message: d.message,
    text: formatDiagnostic(d),
  };
}
