// Loaded into a process under test (NODE_OPTIONS="--expose-gc --import <this file>", with
// PODGATE_HEAP_PROBE_FILE set): once a second it runs a full garbage collection and appends
// the process's memory figures after it as one JSON line to that file. A soak test reads them:
// the heap left after a full collection is what the process really holds, so a leak shows in
// it at once, where RSS alone wanders with the collector's own growing and shrinking.
// Plain JavaScript: it runs before the process's TypeScript loader is registered.
import { appendFileSync } from 'node:fs';

const file = process.env.PODGATE_HEAP_PROBE_FILE;
const intervalMs = Number(process.env.PODGATE_HEAP_PROBE_INTERVAL_MS ?? 1000);
if (file && typeof globalThis.gc === 'function') {
  const timer = setInterval(() => {
    globalThis.gc();
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      rss: m.rss,
    };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the test's directory is gone: nothing to report to
    }
  }, intervalMs);
  timer.unref();
}
