import type { Diagnostic } from './types.js';

/** `file:line:col: error: message`, the shape compilers and editors understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

/** Turns source offsets of one file into 1-based line and column. */
export class SourcePositions {
  readonly #lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
  }

  at(offset: number): { line: number; column: number } {
    const starts = this.#lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  diagnostic(severity: Diagnostic['severity'], offset: number, message: string): Diagnostic {
    const { line, column } = this.at(Math.max(0, Math.min(offset, this.text.length)));
    return { severity, file: this.file, line, column, message };
  }
}

/** Collects diagnostics for one file. */
export class DiagnosticSink {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

  constructor(readonly positions: SourcePositions) {}

  error(offset: number, message: string): void {
    this.errors.push(this.positions.diagnostic('error', offset, message));
  }

  warning(offset: number, message: string): void {
    this.warnings.push(this.positions.diagnostic('warning', offset, message));
  }
}
