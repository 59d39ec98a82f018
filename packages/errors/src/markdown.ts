// The table as Markdown rows, for docs/errors.md (and the test that keeps them equal).
import { ERROR_CODES, type ErrorArea, type ErrorCode, type ErrorCodeInfo } from './codes.js';

export const AREA_TITLES: Record<ErrorArea, string> = {
  config: 'Configuration',
  kubernetes: 'Kubernetes API (watcher)',
  identity: 'Identity',
  store: 'Store',
  lookup: 'Lookup reasons',
  policy: 'Decisions that failed closed',
  http: 'HTTP APIs',
};

/** `| code | area | HTTP status | meaning |` rows, in table order. */
export function errorTableRows(): string[][] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
    const info: ErrorCodeInfo = ERROR_CODES[code];
    return [`\`${code}\``, info.area, info.status === undefined ? '' : String(info.status), info.meaning];
  });
}

export function renderErrorTable(): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  const lines = ['| code | area | HTTP status | meaning |', '| --- | --- | --- | --- |'];
  for (const row of errorTableRows()) lines.push(`| ${row.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}
