#!/usr/bin/env node
// Podgate runs its TypeScript sources through tsx: there is no build step to forget
// (docs/adr/0001-typescript-without-a-build-step.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
