// What POST /v1/validate answers for a YAML text, as plain data: it is computed in a worker
// thread (pool.ts) and crosses to the request's thread by structured clone, so it holds no
// URLs, classes or functions. Pure: the same text gives the same outcome anywhere.
import { type Diagnostic, formatDiagnostic, loadPolicyFiles } from '@podgate/policy';

/** The name diagnostics give the body. */
export const VALIDATE_FILE_NAME = 'request.yaml';

/**
 * What one answer carries, so that its size follows what a person reads, not what a hostile
 * text can make the loader say: 96 KB of `---\nx\n` gave 16,000 diagnostics (a 5 MB answer,
 * 50x the body), and a caller that never reads its answers held each in the process. Past
 * these, `diagnostics_omitted` counts what is left out (errors come first).
 */
export const MAX_DIAGNOSTICS = 100;
export const MAX_MESSAGE_CHARS = 500;

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
      /** The warnings (at most MAX_DIAGNOSTICS). */
      diagnostics: DiagnosticJson[];
      /** Warnings past MAX_DIAGNOSTICS. */
      omitted: number;
    }
  | {
      valid: false;
      errorCount: number;
      /** The errors, then the warnings (at most MAX_DIAGNOSTICS). */
      diagnostics: DiagnosticJson[];
      /** Diagnostics past MAX_DIAGNOSTICS. */
      omitted: number;
    };

export function validatePolicyText(text: string): ValidateOutcome {
  const result = loadPolicyFiles([{ path: VALIDATE_FILE_NAME, text }]);
  if (!result.ok) {
    const all = [...result.errors, ...result.warnings];
    return {
      valid: false,
      errorCount: result.errors.length,
      diagnostics: all.slice(0, MAX_DIAGNOSTICS).map(diagnosticJson),
      omitted: Math.max(0, all.length - MAX_DIAGNOSTICS),
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
    diagnostics: result.warnings.slice(0, MAX_DIAGNOSTICS).map(diagnosticJson),
    omitted: Math.max(0, result.warnings.length - MAX_DIAGNOSTICS),
  };
}

function diagnosticJson(d: Diagnostic): DiagnosticJson {
  const message =
    d.message.length > MAX_MESSAGE_CHARS ? `${d.message.slice(0, MAX_MESSAGE_CHARS)}...` : d.message;
  return {
    severity: d.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    message,
    text: formatDiagnostic({ ...d, message }),
  };
}
