// Change notices for configuration files. Polling the file's stat (fs.watchFile) rather
// than fs.watch: editors and `kubectl create configmap` replace files by rename, and a
// ConfigMap volume swaps a symlink, which fs.watch on the old inode misses.
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { Listeners } from '../listeners.js';

export interface FileWatcher {
  /** Calls `onChange` after `path` changes (appears, disappears, is rewritten); returns a stop function. */
  watch(path: string, onChange: () => void): () => void;
}

export function pollingFileWatcher(intervalMs = 500): FileWatcher {
  return {
    watch(path, onChange) {
      const listener = (current: Stats, previous: Stats) => {
        if (
          current.mtimeMs !== previous.mtimeMs ||
          current.ino !== previous.ino ||
          current.size !== previous.size
        ) {
          onChange();
        }
      };
      watchFile(path, { interval: intervalMs, persistent: false }, listener);
      return () => unwatchFile(path, listener);
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
