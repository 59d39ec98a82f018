// The services a benchmark measures run as production runs them: the compiled JavaScript
// (docs/adr/0008), started by the `podgate` bin with PODGATE_RUN=build. The sources through
// tsx are slower per connection, not only at start: esbuild's output names every function it
// creates at run time (a call per closure), and the proxy made ~10-17% fewer connections per
// second that way (bench/results/proxy.md's run of 2026-12-07, measured side by side). The
// build is brought up to date first (`tsc -b` is incremental: well under a second when nothing
// changed), so a benchmark never measures a build older than the sources.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_CONDITION = '--conditions=podgate-source';

/** `npm run build`, or throws with its output. */
export function buildServices(): void {
  const run = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm run build failed:\n${run.stdout}${run.stderr}`);
}

/** The environment for a `podgate` process that runs the build: no source condition. */
export function builtServiceEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const options = (base.NODE_OPTIONS ?? '')
    .split(/\s+/)
    .filter((o) => o !== '' && o !== SOURCE_CONDITION)
    .join(' ');
  return { ...base, PODGATE_RUN: 'build', NODE_OPTIONS: options };
}
