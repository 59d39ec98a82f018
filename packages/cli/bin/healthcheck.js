#!/usr/bin/env node
// The image's HEALTHCHECK: GET /readyz of the podgate service that runs in this container
// (ready, not only alive: what `depends_on: condition: service_healthy` should wait for).
// One image runs every subcommand, so which service it is and where it listens are read
// from its command line (/proc/1/cmdline, or the arguments given here): `--listen`, else the
// service's default port. Exit 0 when it answers 200 within 3 s, else 1. A container that runs
// no service (validate, eval, dev) has nothing to probe and is healthy while it runs.
import { readFileSync } from 'node:fs';

const DEFAULT_LISTEN = { watcher: '0.0.0.0:9464', proxy: '0.0.0.0:9465', decision: '0.0.0.0:9466' };

function podgateArgs() {
  const given = process.argv.slice(2);
  if (given.length > 0) return given;
  // PID 1 is `node .../podgate.js ARGS`, or an init (docker run --init) followed by it.
  const pid1 = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
  const bin = pid1.findIndex((arg) => /(^|\/)podgate(\.js)?$/.test(arg));
  return bin === -1 ? [] : pid1.slice(bin + 1);
}

function listenFlag(args) {
  let listen;
  args.forEach((arg, i) => {
    if (arg === '--listen') listen = args[i + 1];
    else if (arg.startsWith('--listen=')) listen = arg.slice('--listen='.length);
  });
  return listen;
}

/** The URL of /readyz for HOST:PORT as the service binds it (a wildcard is probed on loopback). */
function healthUrl(listen) {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = listen.slice(at + 1);
  const probe = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${probe.includes(':') ? `[${probe}]` : probe}:${port}/readyz`;
}

const [command, ...args] = podgateArgs();
const fallback = Object.hasOwn(DEFAULT_LISTEN, command ?? '') ? DEFAULT_LISTEN[command] : undefined;
if (fallback === undefined) {
  console.log(`podgate ${command ?? ''}: no service to probe`);
  process.exit(0);
}
const url = healthUrl(listenFlag(args) ?? fallback);
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  console.log(`${url}: ${response.status}`);
  process.exit(response.status === 200 ? 0 : 1);
} catch (error) {
  console.log(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
