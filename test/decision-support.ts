// Shared by the decision service's end-to-end tests: pods written to a real Redis as the
// watcher writes them, `podgate decision` run in-process through the CLI against it, and HTTP
// requests from a chosen loopback source address (the pod IP the service sees as the peer).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runDecisionCommand } from '@podgate/cli';
import type { DecisionService } from '@podgate/decision';
import { createRedisIdentityStore, type IdentityStore, type PodRecord } from '@podgate/identity';
import { type RedisServer, startRedis, waitFor } from '@podgate/test-support';

export const EXAMPLE_CONFIG = new URL('../examples/podgate.yaml', import.meta.url).pathname;
export const TOKEN = 'e2e-token-0123456789abcdef';
export const CLUSTER = 'e2e';
/**
 * For tests that are not about the lookup deadline: the default 200 ms lets a loaded machine
 * answer `store_unavailable` for a pod that is in the store.
 */
export const UNHURRIED_LOOKUPS = ['--lookup-timeout', '10s'] as const;

/** A JSON answer, read loosely: the tests check its shape with matchers. */
// biome-ignore lint/suspicious/noExplicitAny: JSON of any shape, asserted field by field
export type JsonAnswer = any;

export function podRecord(
  uid: string,
  ip: string,
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
): PodRecord {
  return {
    uid,
    name,
    namespace,
    annotations,
    errorCode: '',
    errorMessage: '',
    ips: [ip],
    resourceVersion: '5',
  };
}

/** The pods of examples/pods.yaml that matter here, each on a loopback address a client can bind. */
export const E2E_PODS: PodRecord[] = [
  podRecord('uid-ledger-client', '127.0.0.2', 'payments', 'ledger-client', {
    'k8s.ngrok.com/environment': 'production',
  }),
  podRecord('uid-frontend', '127.0.0.3', 'web', 'frontend'),
  podRecord('uid-batch', '127.0.0.4', 'payments', 'batch'),
];

/** Writes `pods` to Redis as the watcher does (reconcile, then heartbeat), under `keyPrefix`. */
export async function seedRedis(url: string, keyPrefix: string, pods = E2E_PODS): Promise<IdentityStore> {
  const writer = await createRedisIdentityStore({ url, keyPrefix });
  await writer.reconcile(CLUSTER, pods);
  await writer.heartbeat(CLUSTER, 3_600_000);
  return writer;
}

export type TempFiles = ReturnType<typeof tempFiles>;

export function tempFiles(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

export interface RunningDecision {
  service: DecisionService;
  port: number;
  lines(): Array<Record<string, unknown>>;
  /** The log lines of its decisions (`msg: 'decision'`), oldest first. */
  decisions(): Array<Record<string, unknown>>;
  stop(): Promise<number>;
  exit: Promise<number>;
}

/** `podgate decision ARGS` in-process, through the CLI (flags, store, service); resolves once serving. */
export async function runDecision(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningDecision> {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  let stop!: () => void;
  const stopSignal = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const errors: string[] = [];
  let service: DecisionService | undefined;
  const exit = runDecisionCommand(args, env, {
    stopSignal,
    logDestination: sink,
    err: (text) => errors.push(text),
    onListening: (s) => {
      service = s;
    },
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  await waitFor('podgate decision serving', () => service !== undefined || exited);
  if (service === undefined) throw new Error(`podgate decision exited: ${errors.join('\n')}`);
  const started = service;
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    service: started,
    port: started.port,
    lines,
    decisions: () => lines().filter((line) => line.msg === 'decision'),
    stop: () => {
      stop();
      return exit;
    },
    exit,
  };
}

export interface DecisionFlags {
  /** `--config` files, in order: EXAMPLE_CONFIG when none are given. */
  configs?: string[];
  /** `--listen`: 127.0.0.1:0 when not given. */
  listen?: string;
  /** More flags, after the ones every test gives (`--trusted-proxies`, UNHURRIED_LOOKUPS, ...). */
  flags?: readonly string[];
}

export interface SeededRedisOptions {
  /** `--key-prefix`, and where `seedRedis` writes the pods. */
  keyPrefix: string;
  /** Where the token file is written. */
  files: TempFiles;
  /** The token file's text: TOKEN on a line of its own when not given. */
  tokenFile?: string;
}

export interface SeededRedis {
  /** The test's own Redis (after `restartRedis`, the first one, stopped). */
  redis: RedisServer;
  /** The store `seedRedis` wrote the pods with, for a test to change them (after `restartRedis`, the new one's). */
  writer: IdentityStore;
  /** The token file's path. */
  tokens: string;
  /**
   * `podgate decision` against this Redis (`--config`, `--token-file`, `--redis`, `--key-prefix`,
   * `--cluster`, `--listen`, then `flags`); `stop` stops it too.
   */
  start(options?: DecisionFlags): Promise<RunningDecision>;
  /**
   * A new, empty Redis on the port of the first one (stopped by the test), written again as the
   * watcher would after a restart; the old writer closed.
   */
  restartRedis(): Promise<RedisServer>;
  /**
   * Stops every `podgate decision` started here (any Redis resumed first: a paused one would hold
   * their shutdown), then the writer and every Redis. Resolves with the decisions' exit codes.
   */
  stop(): Promise<number[]>;
}

/** A Redis of the test's own, seeded as the watcher seeds it (`seedRedis`), and a token file. */
export async function startSeededRedis(options: SeededRedisOptions): Promise<SeededRedis> {
  const { keyPrefix } = options;
  const redis = await startRedis();
  const servers = [redis];
  const decisions: RunningDecision[] = [];
  let writer: IdentityStore | undefined;
  const stop = async (): Promise<number[]> => {
    for (const server of servers) server.resume();
    const codes: number[] = [];
    for (const decision of decisions.splice(0)) codes.push(await decision.stop());
    await writer?.close();
    writer = undefined;
    for (const server of servers.splice(0).reverse()) await server.stop();
    return codes;
  };
  try {
    writer = await seedRedis(redis.url, keyPrefix);
  } catch (error) {
    await stop();
    throw error;
  }
  const tokens = options.files.write(`tokens-${redis.port}`, options.tokenFile ?? `${TOKEN}\n`);
  const seeded: SeededRedis = {
    redis,
    writer,
    tokens,
    async start({ configs = [EXAMPLE_CONFIG], listen = '127.0.0.1:0', flags = [] } = {}) {
      const decision = await runDecision([
        ...configs.flatMap((config) => ['--config', config]),
        ...['--token-file', tokens, '--redis', redis.url, '--key-prefix', keyPrefix],
        ...['--cluster', CLUSTER, '--listen', listen],
        ...flags,
      ]);
      decisions.push(decision);
      return decision;
    },
    async restartRedis() {
      const restarted = await startRedis({ port: redis.port });
      servers.push(restarted);
      await writer?.close();
      writer = undefined;
      writer = await seedRedis(restarted.url, keyPrefix);
      seeded.writer = writer;
      return restarted;
    },
    stop,
  };
  return seeded;
}

export type DecisionOnRedis = SeededRedis & { decision: RunningDecision };

/** The common case: `startSeededRedis`, and one `podgate decision` started on it with `options`. */
export async function startDecisionOnRedis(
  options: SeededRedisOptions & DecisionFlags,
): Promise<DecisionOnRedis> {
  const seeded = await startSeededRedis(options);
  try {
    return Object.assign(seeded, { decision: await seeded.start(options) });
  } catch (error) {
    await seeded.stop();
    throw error;
  }
}

export interface EchoUpstream {
  port: number;
  close(): Promise<void>;
}

/**
 * The upstream behind a proxy under test (nginx, Caddy): records each request's headers in
 * `reached` and answers them back as JSON, so a test sees what the proxy passed on.
 */
export async function startEchoUpstream(reached: http.IncomingHttpHeaders[]): Promise<EchoUpstream> {
  const server = http.createServer((req, res) => {
    reached.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Sends `signal` to a child still running and waits for it to exit. */
export async function endProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): JsonAnswer;
}

/** One HTTP request from `localAddress` (a loopback address: the peer the service sees), no keep-alive. */
export function httpRequest(options: {
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  localAddress?: string;
  host?: string;
}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'GET',
        headers: { connection: 'close', ...options.headers },
        agent: false,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

/** POST /v1/decisions with a token. */
export async function decideOver(port: number, endpoint: string, clientIp: string): Promise<JsonAnswer> {
  const res = await httpRequest({
    port,
    path: '/v1/decisions',
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint, client_ip: clientIp }),
  });
  if (res.status !== 200) throw new Error(`POST /v1/decisions: ${res.status} ${res.text}`);
  return res.json();
}
