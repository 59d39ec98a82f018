// The whole of Podgate as real processes, as the reliability suite runs it: a real redis-server,
// the fake Kubernetes API (in the test process: the faults are scripted there), `podgate
// watcher` against both, `podgate proxy` in front of two real upstreams, and `podgate decision`.
// Two endpoints share one seed-style policy shape: ledger fails closed (an unknown client is
// refused), status fails open (an unknown client passes, a known pod of another namespace is
// refused). Each upstream asks for a PROXY v1 header, so it knows every client let through.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FakeK8sApi,
  type FaultUpstream,
  heapProbeEnv,
  type PodgateExit,
  type PodgateProcess,
  type RedisServer,
  spawnPodgate,
  startFakeK8sApi,
  startFaultUpstream,
  startRedis,
} from '@podgate/test-support';
import { ALLOWED_NAMESPACE } from './world.js';

export const CLUSTER = 'rel';
export const KEY_PREFIX = 'rel:';
export const TOKEN = 'reliability-token-0123456789abcdef';
export const LEDGER = 'tcp://ledger.payments:5432';
export const STATUS = 'tcp://status.payments:8080';
export type EndpointName = 'ledger' | 'status';
export const ENDPOINT_URL: Record<EndpointName, string> = { ledger: LEDGER, status: STATUS };
/** The readers' lookup deadline (--lookup-timeout). */
export const LOOKUP_TIMEOUT_MS = 200;
/** The watcher's heartbeat: a dead watcher's claims stop counting after the TTL (+ a reader's refresh, 1 s). */
export const HEARTBEAT_INTERVAL_MS = 1_000;
export const HEARTBEAT_TTL_MS = 5_000;
export const READER_REFRESH_MS = 1_000;
/** The watcher's --api-grace: how long the API may fail before its heartbeat stops. */
export const API_GRACE_MS = 2_000;
/** The watcher's --watch-idle-timeout: a watch silent this long (no event, no bookmark) is restarted. */
export const WATCH_IDLE_MS = 2_000;

const API = 'apiVersion: ngrok.k8s.ngrok.com/v1alpha1';

function policyYaml(ledgerPort: number, statusPort: number): string {
  const internal = (name: string, url: string, port: number) => `${API}
kind: AgentEndpoint
metadata: {name: ${name}-internal, namespace: payments}
spec:
  url: ${url}
  upstream: {url: "tcp://127.0.0.1:${port}", proxyProtocolVersion: "1"}
`;
  const gate = (name: string, url: string, rules: string) => `${API}
kind: CloudEndpoint
metadata: {name: ${name}, namespace: payments}
spec:
  url: ${url}
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
${rules.replace(/^/gm, '        ')}
`;
  const failClosed = `- expressions: ['conn.k8s.pod.metadata.error_code != ""']
  actions: [{type: deny}]
- expressions: ['conn.k8s.pod.metadata.namespace != "${ALLOWED_NAMESPACE}"']
  actions: [{type: deny}]
- actions: [{type: forward-internal, config: {url: "tcp://ledger.payments.internal:5432"}}]`;
  const failOpen = `- expressions: ['conn.k8s.pod.metadata.error_code == "" && conn.k8s.pod.metadata.namespace != "${ALLOWED_NAMESPACE}"']
  actions: [{type: deny}]
- actions: [{type: forward-internal, config: {url: "tcp://status.payments.internal:8080"}}]`;
  return [
    internal('ledger', 'tcp://ledger.payments.internal:5432', ledgerPort),
    internal('status', 'tcp://status.payments.internal:8080', statusPort),
    gate('ledger', LEDGER, failClosed),
    gate('status', STATUS, failOpen),
  ].join('---\n');
}

/** What the policy says for a client: `identityNamespace` null = no identity (any ERR_NGROK_28001). */
export function policyAllows(endpoint: EndpointName, identityNamespace: string | null): boolean {
  if (identityNamespace === null) return endpoint === 'status';
  return identityNamespace === ALLOWED_NAMESPACE;
}

export interface Stack {
  dir: string;
  api: FakeK8sApi;
  redis: RedisServer;
  upstreams: Record<EndpointName, FaultUpstream>;
  watcher: PodgateProcess;
  proxy: PodgateProcess;
  decision: PodgateProcess;
  /** Where each process's heap probe writes (with `heapProbe: true`). */
  heapFiles: Record<'watcher' | 'proxy' | 'decision', string>;
  /** The proxy's listener port per endpoint. */
  proxyPort: Record<EndpointName, number>;
  decisionPort: number;
  /** Every podgate process started (restarts included), for the exit check at the end. */
  processes: PodgateProcess[];
  /** SIGKILL and restart redis-server on its port (empty, as a crashed Redis without persistence). */
  restartRedis(downMs: number): Promise<void>;
  startWatcher(): PodgateProcess;
  /** Stops every podgate process (SIGTERM, so they drain and flush their logs), then the rest. */
  stop(): Promise<
    Array<{ command: string; pid: number; exit: PodgateExit; stderr: string; killedByTest: boolean }>
  >;
}

export interface StackOptions {
  /** Load the heap probe (test-support's heap-probe.mjs) into every podgate process. */
  heapProbe?: boolean;
  /** Modules the proxy process loads first (NODE_OPTIONS --import): the soak's positive control. */
  proxyImports?: string[];
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'podgate-reliability-'));
  const redis = await startRedis();
  // Bookmarks (the watcher asks for them), as a real API server sends them, only more often.
  const api = await startFakeK8sApi({ bookmarkIntervalMs: 500 });
  const upstreams = { ledger: await startFaultUpstream(), status: await startFaultUpstream() };
  const config = join(dir, 'podgate.yaml');
  writeFileSync(config, policyYaml(upstreams.ledger.port, upstreams.status.port));
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, `${TOKEN}\n`);
  const kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
  const heapFiles = {
    watcher: join(dir, 'watcher.heap'),
    proxy: join(dir, 'proxy.heap'),
    decision: join(dir, 'decision.heap'),
  };
  const probe = (name: keyof typeof heapFiles): Record<string, string> => {
    const imports = name === 'proxy' ? (options.proxyImports ?? []) : [];
    const base = [process.env.NODE_OPTIONS ?? '', ...imports.map((m) => `--import ${m}`)].join(' ').trim();
    if (options.heapProbe) return heapProbeEnv(heapFiles[name], base);
    return base === '' ? {} : { NODE_OPTIONS: base };
  };
  const processes: PodgateProcess[] = [];
  const killedByTest = new Set<PodgateProcess>();
  let redisNow = redis;
  const store = ['--redis', redis.url, '--cluster', CLUSTER, '--key-prefix', KEY_PREFIX];
  const admin = ['--listen', '127.0.0.1:0'];

  const startWatcher = () => {
    const p = spawnPodgate(
      'watcher',
      [
        ...store,
        ...admin,
        ...['--heartbeat-interval', `${HEARTBEAT_INTERVAL_MS}ms`, '--heartbeat-ttl', `${HEARTBEAT_TTL_MS}ms`],
        ...['--api-grace', `${API_GRACE_MS}ms`, '--watch-idle-timeout', `${WATCH_IDLE_MS}ms`],
        ...['--drain-timeout', '5s'],
      ],
      { KUBECONFIG: kubeconfig, ...probe('watcher') },
    );
    processes.push(p);
    // A watcher the test kills is expected to end by that signal; the exit check reads this.
    const kill = p.kill.bind(p);
    p.kill = (signal) => {
      if (signal === 'SIGKILL') killedByTest.add(p);
      kill(signal);
    };
    return p;
  };

  const watcher = startWatcher();
  const proxy = spawnPodgate(
    'proxy',
    [
      ...['--config', config, '--bind', `${LEDGER}=127.0.0.1:0`, '--bind', `${STATUS}=127.0.0.1:0`],
      ...store,
      ...admin,
      ...['--lookup-timeout', `${LOOKUP_TIMEOUT_MS}ms`, '--connect-timeout', '1s', '--idle-timeout', '3s'],
      ...['--drain-timeout', '3s'],
    ],
    probe('proxy'),
  );
  const decision = spawnPodgate(
    'decision',
    [
      ...['--config', config, '--token-file', tokens],
      ...store,
      ...admin,
      ...['--lookup-timeout', `${LOOKUP_TIMEOUT_MS}ms`, '--drain-timeout', '3s'],
    ],
    probe('decision'),
  );
  processes.push(proxy, decision);

  const listening = async (url: string) => {
    const line = await proxy.waitForLine(
      `listening on ${url}`,
      (l) => l.msg === 'listening' && l.endpoint === url,
    );
    return Number(String(line.listen).split(':').at(-1));
  };
  const proxyPort = { ledger: await listening(LEDGER), status: await listening(STATUS) };
  const serving = await decision.waitForLine('serving', (l) => String(l.msg).startsWith('serving /v1'));
  const decisionPort = Number(String(serving.listen).split(':').at(-1));

  return {
    dir,
    api,
    get redis() {
      return redisNow;
    },
    upstreams,
    heapFiles,
    watcher,
    proxy,
    decision,
    proxyPort,
    decisionPort,
    processes,
    async restartRedis(downMs) {
      const port = redisNow.port;
      await redisNow.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, downMs));
      redisNow = await startRedis({ port });
    },
    startWatcher,
    async stop() {
      const exits = await Promise.all(
        processes.map(async (p) => ({
          command: p.command,
          pid: p.pid,
          exit: await p.stop(10_000),
          stderr: p.stderr(),
          killedByTest: killedByTest.has(p),
        })),
      );
      await Promise.all([upstreams.ledger.close(), upstreams.status.close()]);
      await api.close();
      await redisNow.stop();
      rmSync(dir, { recursive: true, force: true });
      return exits;
    },
  };
}
