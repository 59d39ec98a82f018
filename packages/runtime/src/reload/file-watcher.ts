// Change notices for configuration files. Polling the file's stat (fs.watchFile) rather
// than fs.watch: editors and `kubectl create configmap` replace files by rename, and a
// ConfigMap volume swaps a symlink, which fs.watch on the old inode misses.
//
// A change is reported only once the file has held still for one polling interval. Many
// writers rewrite a file in place (truncate, then write: VS Code, `cat > file`, a bind-mounted
// file edited on the host), and a poll that lands between the two sees an empty or cut-off
// file. Cut between two rules, the YAML is still valid: the proxy would have applied a policy
// without its later rules (its deny, say) until the next poll.
import { type Stats, stat, unwatchFile, watchFile } from 'node:fs';
import { Listeners } from '../listeners.js';

export interface FileWatcher {
  /** Calls `onChange` after `path` changes (appears, disappears, is rewritten); returns a stop function. */
  watch(path: string, onChange: () => void): () => void;
}

/** What a poll compares. A missing file reads as fs.watchFile reports one: all zeros. */
export function statSignature(s: Pick<Stats, 'ino' | 'size' | 'mtimeMs'> | undefined): string {
  return s === undefined ? '0:0:0' : `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export function pollingFileWatcher(intervalMs = 500): FileWatcher {
  return {
    watch(path, onChange) {
      let stopped = false;
      let settling: NodeJS.Timeout | null = null;
      /** The file as the last poll that saw it change found it. */
      let seen = '';
      const settle = () => {
        settling = null;
        stat(path, (_error, now) => {
          if (stopped || settling !== null) return;
          const signature = statSignature(now);
          if (signature === seen) {
            onChange();
            return;
          }
          // Still being written: wait for it to hold still.
          seen = signature;
          arm();
        });
      };
      const arm = () => {
        if (settling !== null) clearTimeout(settling);
        settling = setTimeout(settle, intervalMs);
        settling.unref();
      };
      const listener = (current: Stats, previous: Stats) => {
        if (statSignature(current) === statSignature(previous)) return;
        seen = statSignature(current);
        arm();
      };
      watchFile(path, { interval: intervalMs, persistent: false }, listener);
      return () => {
        stopped = true;
        if (settling !== null) clearTimeout(settling);
        unwatchFile(path, listener);
      };
    },
  };
}

/** A FileWatcher a test drives by hand: `touch(path)` is a change of that file. */
export function manualFileWatcher(): FileWatcher & { touch(path: string): void; watched(): string[] } {
  const listeners = new Listeners<string, []>();
  return {
    watch: (path, onChange) => listeners.add(path, onChange),
    touch: (path) => listeners.emit(path),
    watched: () => listeners.keys(),
  };
}
