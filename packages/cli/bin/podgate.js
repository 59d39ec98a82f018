#!/usr/bin/env node
// The `podgate` executable. In production (the image, a packed install) it runs the compiled
// JavaScript in ../dist; in a checkout it runs the TypeScript sources through tsx, so what runs
// is never an older build than what was edited (docs/adr/0008-compiled-javascript-in-production.md).
// PODGATE_RUN=build or PODGATE_RUN=source chooses explicitly.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const built = new URL('../dist/index.js', import.meta.url);
const sources = new URL('../src/index.ts', import.meta.url);
const wanted = process.env.PODGATE_RUN ?? (existsSync(sources) ? 'source' : 'build');

async function load() {
  if (wanted === 'build') {
    if (!existsSync(built)) {
      throw new Error(
        `podgate: no build at ${built.pathname}; run 'npm run build' first (or PODGATE_RUN=source)`,
      );
    }
    return import(built.href);
  }
  if (wanted === 'source') {
    // tsx is a development dependency: a production install has no tsx and runs the build.
    const tsx = await import('tsx/esm/api').catch((error) => {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
      throw new Error(
        "podgate: running the sources needs tsx (a development dependency); run 'npm ci' first",
      );
    });
    tsx.register();
    // Registered after tsx, so it runs first: every import resolves the workspace packages
    // to their sources (the `podgate-source` export condition) instead of their dist/.
    register('./source-hooks.js', import.meta.url);
    return import(sources.href);
  }
  throw new Error(`podgate: PODGATE_RUN must be 'build' or 'source', not '${wanted}'`);
}

let cli;
try {
  cli = await load();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const code = await cli.main(process.argv.slice(2));
process.exitCode = code;
// A service stopped by force may leave sockets and timers behind: do not wait for them.
if (code === cli.EXIT.forced) process.exit(code);
