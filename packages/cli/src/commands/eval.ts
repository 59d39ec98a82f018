import {
  type IdentityStore,
  type LookupResult,
  normalizeIp,
  openStore,
  type PodRecord,
  podVarsFromLookup,
} from '@podgate/identity';
import { type CompiledEndpoint, decisionJson, type PolicyConfig } from '@podgate/policy';
import { lookupTimeoutSchema, parseConfig, presentOnly } from '@podgate/runtime';
// The watcher's own pods-file parser: a file the watcher refuses is refused here too.
import { podsFileParser } from '@podgate/watcher';
import { z } from 'zod';
import { parseCommandArgs, UsageError } from '../args.js';
import { loadConfigFiles } from '../config-files.js';
import { type CliIo, type Command, EXIT } from '../io.js';
import {
  ANNOTATION_PREFIX_FLAG,
  ANNOTATION_PREFIX_HELP,
  clusterFlagInput,
  LOOKUP_TIMEOUT_FLAG,
  readerStoreFlagsSchema,
  redactUrl,
  STORE_FLAGS,
  storeFlagsHelp,
  storeFlagsInput,
  toStoreOptions,
} from '../store-flags.js';

const HELP = `Usage: podgate eval --config FILE [--config FILE ...] --endpoint URL --client-ip IP
                    (--pods-file FILE | --redis URL | --redis-cluster H:P,H:P) [options]

Dry run: looks up the pod that owns --client-ip, runs the endpoint's on_tcp_connect
rules and prints the decision as one JSON object on stdout:
  allowed, action, rule, expression, error, target, logs, vars,
  identity (conn.k8s.pod.* as the policy saw it) and lookup (why identity is missing).

Options:
  --config FILE        policy/endpoint YAML (repeatable; loaded together)
  --endpoint URL       the endpoint's spec.url (may be omitted when the config has one endpoint)
  --client-ip IP       the connecting pod's IP (IPv4, IPv6, IPv4-mapped IPv6)
  --client-port N      conn.client_port (default 50000)
  --server-ip IP       conn.server_ip (default 127.0.0.1)
  --server-port N      conn.server_port (default: the endpoint URL's port)
  --pods-file FILE     identity from pods YAML, as 'kubectl get pods -A -o yaml' prints it
                       (one cluster: at most one --cluster)

${storeFlagsHelp('reader')}
  --lookup-timeout DUR        deadline of the identity lookup (default 200ms, as the
                              services); past it the identity is ERR_NGROK_28001 (store
                              unavailable) and the endpoint's policy decides

With --pods-file, as the watcher reads one:
${ANNOTATION_PREFIX_HELP}

Exit status: 0 whatever the verdict; 2 on bad usage (an unknown or missing flag, a bad
IP, port or store flag); 1 when it could not decide (a configuration that does not load,
an endpoint it does not have, an unusable pods file, a store that cannot be reached).`;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Dry run: endpoint + client IP -> decision and the identity it saw',
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      config: { type: 'string', multiple: true },
      endpoint: { type: 'string' },
      'client-ip': { type: 'string' },
      'client-port': { type: 'string' },
      'server-ip': { type: 'string' },
      'server-port': { type: 'string' },
      'pods-file': { type: 'string' },
      ...STORE_FLAGS,
      ...LOOKUP_TIMEOUT_FLAG,
      ...ANNOTATION_PREFIX_FLAG,
    });
    if (!values.config?.length) throw new UsageError('--config FILE is required');
    if (!values['client-ip']) throw new UsageError('--client-ip IP is required');
    const podsFile = values['pods-file'];
    if (podsFile && (values.redis || values['redis-cluster'])) {
      throw new UsageError('give --pods-file or --redis, not both');
    }
    // With a pods file, REDIS_URL in the environment is not the identity source.
    const storeFlags = parseConfig(
      evalStoreFlagsSchema,
      presentOnly({
        ...storeFlagsInput(values, podsFile ? {} : io.env),
        clusters: clusterFlagInput(values, io.env, 'default'),
        lookupTimeoutMs: values['lookup-timeout'],
      }),
    );
    if (!podsFile && storeFlags.ok && !storeFlags.config.redisUrl && !storeFlags.config.redisCluster)
      throw new UsageError('identity source required: --pods-file FILE or --redis URL');

    if (podsFile && (values.cluster?.length ?? 0) > 1) {
      throw new UsageError('a pods file is one cluster: give at most one --cluster');
    }
    if (!storeFlags.ok) throw new UsageError(storeFlags.message);

    let clientIp: string;
    try {
      clientIp = normalizeIp(values['client-ip']);
    } catch (error) {
      throw new UsageError(`--client-ip: ${(error as Error).message}`);
    }
    const clientPort = portOption(values['client-port'], '--client-port') ?? 50000;

    const loaded = await loadConfigFiles(values.config, io);
    if (!loaded) return EXIT.invalid;
    const { config } = loaded;
    const found = values.endpoint ? config.findEndpoint(values.endpoint) : undefined;
    const endpoint = found ? endpointTarget(found) : values.endpoint ? undefined : soleTarget(config);
    if (!endpoint) {
      const known = config.endpoints.map((e) => `  ${e.url.href}`).join('\n');
      io.err(
        values.endpoint
          ? `podgate eval: no endpoint with url ${values.endpoint}; the configuration has:\n${known}`
          : `podgate eval: --endpoint URL is required unless the configuration has exactly one endpoint or one bare policy; it has:\n${known}`,
      );
      return EXIT.invalid;
    }

    const { clusters } = storeFlags.config;
    let lookup: LookupResult;
    if (podsFile) {
      const result = await lookupInPodsFile(
        podsFile,
        clusters[0]!,
        values['annotation-prefix'],
        clientIp,
        io,
      );
      if (!result) return EXIT.invalid;
      lookup = result;
    } else {
      const result = await lookupInStore(storeFlags.config, clientIp, io);
      if (!result) return EXIT.invalid;
      lookup = result;
    }

    const pod = podVarsFromLookup(lookup);
    const decision = endpoint.evaluateTcpConnect({
      conn: {
        clientIp,
        clientPort,
        serverIp: values['server-ip'] ?? '127.0.0.1',
        serverPort: portOption(values['server-port'], '--server-port') ?? endpoint.port,
        startedAt: new Date(),
      },
      pod,
    });
    io.out(JSON.stringify(decisionJson({ endpoint: endpoint.label, clientIp, decision, pod, lookup })));
    return EXIT.ok;
  },
};

interface EvalTarget {
  label: string;
  port: number;
  evaluateTcpConnect: CompiledEndpoint['evaluateTcpConnect'];
}

function endpointTarget(endpoint: CompiledEndpoint): EvalTarget {
  return {
    label: endpoint.url.href,
    port: endpoint.url.port,
    evaluateTcpConnect: (i) => endpoint.evaluateTcpConnect(i),
  };
}

/** Without --endpoint: the one endpoint, or the one bare policy of an endpoint-less configuration. */
function soleTarget(config: PolicyConfig): EvalTarget | undefined {
  const [endpoint, ...otherEndpoints] = config.endpoints;
  if (endpoint && otherEndpoints.length === 0) return endpointTarget(endpoint);
  const [policy, ...otherPolicies] = config.policies;
  if (!endpoint && policy && otherPolicies.length === 0) {
    return { label: policy.name, port: 0, evaluateTcpConnect: (i) => policy.evaluateTcpConnect(i) };
  }
  return undefined;
}

/** A reader's store flags and the services' --lookup-timeout: eval looks up as they do. */
const evalStoreFlagsSchema = z.intersection(
  readerStoreFlagsSchema,
  z.object({ lookupTimeoutMs: lookupTimeoutSchema() }),
);
type EvalStoreFlags = z.output<typeof evalStoreFlagsSchema>;

function portOption(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} must be a port number (0-65535)`);
  return port;
}

/**
 * Identity from a pods file: read by the watcher's own parser (a file the watcher would
 * refuse is refused here too) into the embedded store, so eval sees what the services see.
 */
async function lookupInPodsFile(
  path: string,
  cluster: string,
  annotationPrefixes: readonly string[] | undefined,
  ip: string,
  io: CliIo,
): Promise<LookupResult | undefined> {
  let records: PodRecord[];
  try {
    records = podsFileParser(annotationPrefixes)(await io.readText(path), path);
  } catch (error) {
    io.err(`podgate eval: --pods-file ${path}: ${(error as Error).message}`);
    return undefined;
  }
  const store = await openStore({});
  try {
    await store.reconcile(cluster, records);
    await store.heartbeat(cluster, 60_000);
    return await store.lookup(ip, [cluster]);
  } finally {
    await store.close();
  }
}

/** Identity from the store the flags name; undefined (after saying why) when it cannot be opened. */
async function lookupInStore(
  flags: EvalStoreFlags,
  ip: string,
  io: CliIo,
): Promise<LookupResult | undefined> {
  let store: IdentityStore;
  try {
    store = await openStore(
      toStoreOptions(flags, { clusters: flags.clusters, lookupTimeoutMs: flags.lookupTimeoutMs }),
    );
  } catch (error) {
    const flag = flags.redisUrl
      ? `--redis ${redactUrl(flags.redisUrl)}`
      : `--redis-cluster ${(flags.redisCluster ?? []).map((n) => `${n.host}:${n.port}`).join(',')}`;
    io.err(`podgate eval: ${flag}: ${(error as Error).message}`);
    return undefined;
  }
  try {
    return await store.lookup(ip, flags.clusters);
  } finally {
    await store.close();
  }
}
