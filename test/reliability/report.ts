// The suite's figures: each test file writes its part to .tmp/reliability/NAME.json; the global
// teardown (global-setup.ts) adds them up into .tmp/reliability-report.json and prints it as
// one JSON line.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
export const PARTS_DIR = join(ROOT, '.tmp', 'reliability');
export const REPORT_FILE = join(ROOT, '.tmp', 'reliability-report.json');

export type Part = Record<string, unknown>;

export function writePart(name: string, part: Part): void {
  mkdirSync(PARTS_DIR, { recursive: true });
  writeFileSync(join(PARTS_DIR, `${name}.json`), `${JSON.stringify(part, null, 2)}\n`);
}

export function clearParts(): void {
  rmSync(PARTS_DIR, { recursive: true, force: true });
}

/** Numbers with the same name are added (maxima: the larger is kept); the rest kept per part. */
export function mergeParts(): Record<string, unknown> {
  let names: string[] = [];
  try {
    names = readdirSync(PARTS_DIR).filter((n) => n.endsWith('.json'));
  } catch {
    // no parts: nothing ran
  }
  const totals: Record<string, number> = {};
  const parts: Record<string, unknown> = {};
  for (const name of names.sort()) {
    const part = JSON.parse(readFileSync(join(PARTS_DIR, name), 'utf8')) as Part;
    parts[name.replace(/\.json$/, '')] = part;
    const counts = (part.counts ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(counts)) {
      if (typeof value !== 'number') continue;
      totals[key] = key.startsWith('max') ? Math.max(totals[key] ?? 0, value) : (totals[key] ?? 0) + value;
    }
  }
  return { finishedAt: new Date().toISOString(), totals, parts };
}

export function writeReport(): string {
  const report = mergeParts();
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const line = JSON.stringify(report);
  writeFileSync(REPORT_FILE, `${line}\n`);
  return line;
}
