import { formatDiagnostic, type LoadResult, loadPolicyFiles } from '@podgate/policy';
import type { CliIo } from './io.js';

export type LoadedConfig = Extract<LoadResult, { ok: true }>;

/**
 * Reads and loads policy files together (a targetRef may point into another file).
 * Prints warnings to stderr; on any error prints them all and returns undefined.
 */
export async function loadConfigFiles(
  paths: readonly string[],
  io: CliIo,
): Promise<LoadedConfig | undefined> {
  const files: Array<{ path: string; text: string }> = [];
  let unreadable = false;
  for (const path of paths) {
    try {
      files.push({ path, text: await io.readText(path) });
    } catch (error) {
      io.err(
        `${path}: error: cannot read file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      unreadable = true;
    }
  }
  if (unreadable) return undefined;
  const result = loadPolicyFiles(files);
  for (const warning of result.warnings) io.err(formatDiagnostic(warning));
  if (!result.ok) {
    for (const error of result.errors) io.err(formatDiagnostic(error));
    const count = result.errors.length;
    io.err(`${count} error${count === 1 ? '' : 's'}; configuration refused.`);
    return undefined;
  }
  // Valid, but surely not what was meant: an empty file (or one of only comments) gates nothing.
  for (const file of result.files) {
    if (file.endpoints === 0 && file.policies === 0) {
      io.err(`${file.path}:1:1: warning: no endpoints and no traffic policies in this file (is it empty?)`);
    }
  }
  return result;
}
