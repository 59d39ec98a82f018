// Vitest's global setup for the reliability suite: clears the last run's parts before, and
// after every file has run, writes .tmp/reliability-report.json and prints it as one line.
import { clearParts, REPORT_FILE, writeReport } from './report.js';

export function setup(): void {
  clearParts();
}

export function teardown(): void {
  const line = writeReport();
  process.stdout.write(`\nreliability report (${REPORT_FILE}):\n${line}\n`);
}
