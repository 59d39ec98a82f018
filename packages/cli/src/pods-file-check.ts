// A pods file is read once before a command starts on it, so that a file that cannot be used
// is one clear line and a non-zero exit at start, instead of a log line after the service
// is up (the watcher keeps the last good state on a later bad edit, but at start there is none).
import { errorMessage } from '@podgate/errors';
import { podsFileParser } from '@podgate/watcher';

/**
 * The pod count of `path`, or an Error saying in one line why the file cannot be used.
 * `missing: 'allow'` (the watcher, whose file may be mounted after it starts): a file that
 * does not exist yet gives null, and the watcher waits for it, not ready.
 */
export async function checkPodsFile(
  path: string,
  annotationPrefixes: readonly string[] | undefined,
  readText: (path: string) => Promise<string>,
  missing: 'allow' | 'refuse' = 'refuse',
): Promise<number | null> {
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missing === 'allow') return null;
    throw new Error(`--pods-file ${path}: cannot read it: ${code ?? errorMessage(error)}`);
  }
  try {
    return podsFileParser(annotationPrefixes)(text, path).length;
  } catch (error) {
    throw new Error(`--pods-file: ${errorMessage(error)}`);
  }
}
