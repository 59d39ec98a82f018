// What POST /v1/validate answers for a YAML text, as plain data: it is computed in a worker
// thread (pool.ts) and crosses to the request's thread by structured clone, so it holds no
// URLs, classes or functions. Pure: the same text gives the same outcome anywhere.
import { type Diagnostic, formatDiagnostic, loadPolicyFiles } from '@podgate/policy';

/** The name diagnostics give the body. */
export const VALIDATE_FILE_NAME = 'request.yaml';

export interface DiagnosticJson {
  severity: Diagnostic['severity'];
  file: string;
  line: number;
  column: number;
  message: string;
  /** The `file:line:column: severity: message` line `podgate validate` prints. */
  text: string;
}

export type ValidateOutcome =
  | {
      valid: true;
      endpoints: { url: string; kind: string; name: string; namespace: string; dry_run: boolean }[];
      policies: { kind: string; name: string; namespace: string }[];
      /** The warnings. */
      diagnostics: DiagnosticJson[];
    }
  | {
      valid: false;
      errorCount: number;
      /** The errors, then the warnings. */
      diagnostics: DiagnosticJson[];
    };

export function validatePolicyText(text: string): ValidateOutcome {
  const result = loadPolicyFiles([{ path: VALIDATE_FILE_NAME, text }]);
  if (!result.ok) {
    return {
      valid: false,
      errorCount: result.errors.length,
      diagnostics: [...result.errors, ...result.warnings].map(diagnosticJson),
    };
  }
  const { config } = result;
  return {
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
  };
}

function diagnosticJson(d: Diagnostic): DiagnosticJson {
  return {
    severity: d.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    message: d.message,
    text: formatDiagnostic(d),
  };
}
