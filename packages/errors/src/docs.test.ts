// docs/errors.md lists exactly the table: every code with its area, status and meaning.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorTableRows } from './markdown.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The rows of the Markdown table whose header starts with `| code |`, cells trimmed. */
function documentedRows(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^\|\s*code\s*\|/.test(line));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, line.trimEnd().length - 1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replaceAll('\\|', '|'));
    rows.push(cells);
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('lists every code of the table, in order, with its area, status and meaning', () => {
    expect(documentedRows(doc)).toEqual(errorTableRows());
  });
});
