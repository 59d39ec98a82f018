// The store flags, declared, parsed and documented once, for every command that writes or
// reads identities (watcher, eval; decision and proxy next): where the store is
// (--redis / REDIS_URL, --redis-cluster), its key prefix, and the cluster names
// (--cluster / PODGATE_CLUSTER: the one a watcher writes, or those a reader consults).
// The result is identity's StoreOptions, opened by `openStore`.
import { assertClusterName, parseRedisUrl, type StoreOptions } from '@podgate/identity';
import { hostPortListSchema } from '@podgate/runtime';
import { z } from 'zod';
import type { FlagValues } from './args.js';

export const STORE_FLAGS = {
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'key-prefix': { type: 'string' },
  cluster: { type: 'string', multiple: true },
} as const;

/** The deadline of one lookup, for every reader (proxy, decision, eval): runtime's lookupTimeoutSchema. */
export const LOOKUP_TIMEOUT_FLAG = {
  'lookup-timeout': { type: 'string' },
} as const;

/** Which annotations reach policies; for commands that derive identities from pods. */
export const ANNOTATION_PREFIX_FLAG = {
  'annotation-prefix': { type: 'string', multiple: true },
} as const;

const STORE_HELP = `  --redis URL                 redis://, rediss:// (TLS), with user:password@, or
                              redis+cluster://h1:p1,h2:p2 (env REDIS_URL)
  --redis-cluster H:P,H:P     Redis Cluster seed nodes (instead of --redis)
  --key-prefix PREFIX         prefix of every key (default podgate:)`;

/** The help lines of the store flags; a writer writes one cluster, a reader consults some. */
export function storeFlagsHelp(role: 'writer' | 'reader'): string {
  const cluster =
    role === 'writer'
      ? '  --cluster NAME              the name this cluster has in the store; required\n                              (env PODGATE_CLUSTER)'
      : "  --cluster NAME              a cluster to consult (repeatable; default\n                              PODGATE_CLUSTER, else 'default')";
  const heading =
    role === 'writer'
      ? 'Store (default: the embedded in-memory store, visible to this process only):'
      : 'Store (where the watchers write identities):';
  return `${heading}\n${STORE_HELP}\n${cluster}`;
}

export const ANNOTATION_PREFIX_HELP = `  --annotation-prefix P       annotation prefix surfaced to policies (repeatable;
                              default k8s.ngrok.com/)`;

const clusterName = z.string().superRefine((name, ctx) => {
  try {
    assertClusterName(name);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `--cluster: ${(error as Error).message}` });
  }
});

const redisUrl = z.string().superRefine((url, ctx) => {
  try {
    parseRedisUrl(url);
  } catch (error) {
    const why = (error as Error).message;
    ctx.addIssue({
      code: 'custom',
      message: `--redis: expected redis://, rediss:// or redis+cluster:// (${why})`,
    });
  }
});

/** Where the store is: `--redis` or `--redis-cluster` (neither: the embedded store), and `--key-prefix`. */
export const storeFlagsSchema = z
  .object({
    redisUrl: redisUrl.optional(),
    redisCluster: hostPortListSchema('--redis-cluster').optional(),
    keyPrefix: z
      .string()
      .min(1)
      .regex(/^[^{}]*$/, '--key-prefix: may not contain { or } (they are Redis Cluster hash tags)')
      .optional(),
  })
  .superRefine((flags, ctx) => {
    if (flags.redisUrl && flags.redisCluster) {
      ctx.addIssue({ code: 'custom', message: 'give --redis or --redis-cluster, not both' });
    }
  });

/** A reader's store flags: where the store is, and the clusters to consult. */
export const readerStoreFlagsSchema = z.intersection(
  storeFlagsSchema,
  z.object({ clusters: z.array(clusterName).min(1) }),
);

export type StoreFlags = z.output<typeof storeFlagsSchema>;
export type ReaderStoreFlags = z.output<typeof readerStoreFlagsSchema>;

/** Flags and environment to the schema's input: flags win; absent means the default. */
export function storeFlagsInput(values: FlagValues, env: Readonly<Record<string, string | undefined>>) {
  return {
    redisUrl: text(values.redis) ?? text(env.REDIS_URL),
    redisCluster: text(values['redis-cluster']),
    keyPrefix: text(values['key-prefix']),
  };
}

/** `--cluster` values, else PODGATE_CLUSTER, else `fallback` (readers: 'default'). */
export function clusterFlagInput(
  values: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
  fallback?: string,
): string[] | undefined {
  const given = values.cluster;
  const flags = (Array.isArray(given) ? given : [given]).filter(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  if (flags.length > 0) return flags;
  const fromEnv = text(env.PODGATE_CLUSTER);
  if (fromEnv !== undefined) return [fromEnv];
  return fallback === undefined ? undefined : [fallback];
}

/** The options `openStore` takes; `extra` adds what the command decides (clusters, timeouts, onError). */
export function toStoreOptions(
  flags: StoreFlags,
  extra: Omit<StoreOptions, 'url' | 'clusterNodes'> = {},
): StoreOptions {
  return {
    ...(flags.redisUrl !== undefined ? { url: flags.redisUrl } : {}),
    ...(flags.redisCluster !== undefined ? { clusterNodes: flags.redisCluster } : {}),
    ...(flags.keyPrefix !== undefined ? { keyPrefix: flags.keyPrefix } : {}),
    ...extra,
  };
}

/** Credentials never reach logs or terminals. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
