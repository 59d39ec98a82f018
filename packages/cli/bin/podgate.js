#!/usr/bin/env node
// Podgate runs its TypeScript sources through tsx: there is no build step to forget
// (docs/adr/0001-typescript-without-a-build-step.md).
import { register } from 'tsx/esm/api';

register();
const { main, EXIT } = await import('../src/index.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// A service stopped by force may leave sockets and timers behind: do not wait for them.
if (code === EXIT.forced) process.exit(code);
