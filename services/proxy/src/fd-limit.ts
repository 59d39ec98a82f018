// Every forwarded connection holds two file descriptors (client and upstream). Past the
// process's open-file limit new connections are dropped by the system before the proxy sees
// them, so a --max-connections that the limit cannot hold is worth a warning at start.
import { readFile } from 'node:fs/promises';

/** The soft open-file limit, from /proc (Linux); null where it cannot be read. */
export async function openFileLimit(
  read = () => readFile('/proc/self/limits', 'utf8'),
): Promise<number | null> {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(await read());
    if (match === null) return null;
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return null;
  }
}

/** Descriptors `maxConnections` forwarded connections need, with room for the rest of the process. */
export function descriptorsNeeded(maxConnections: number): number {
  return maxConnections * 2 + 256;
}
