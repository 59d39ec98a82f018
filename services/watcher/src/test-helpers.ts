// Shared by the watcher's tests (not exported from the package).
import { Writable } from 'node:stream';
import type { IdentityReader, LookupResult } from '@podgate/identity';
import type { Logger } from 'pino';
import { systemClock } from './clock.js';
import { recordDeriver } from './deps.js';
import { createLogger } from './logger.js';
import type { WatcherMetrics } from './metrics.js';
import type { KubeAccess } from './sources/kube-access.js';
import { createKubeApi } from './sources/kube-api.js';
import { KubernetesPodSource, type KubernetesSourceOptions } from './sources/kubernetes.js';

/** Polls `check` until it returns true (or a truthy value), failing after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A logger that keeps its JSON lines in memory (`lines`), for assertions on log output. */
export function memoryLogger(level: 'info' | 'debug' | 'warn' = 'info'): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
} {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger(level, sink),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** `name` of the pod owning `ip` in `cluster`, or the not-found reason prefixed with `!`. */
export async function owner(store: IdentityReader, ip: string, cluster: string): Promise<string> {
  const result: LookupResult = await store.lookup(ip, [cluster]);
  return result.ok ? `${result.identity.namespace}/${result.identity.name}` : `!${result.reason}`;
}

/** A Kubernetes pod source with test-speed timings; `options` overrides them. */
export function testKubeSource(
  access: KubeAccess,
  deps: { logger: Logger; metrics: WatcherMetrics },
  options: Partial<KubernetesSourceOptions> = {},
): KubernetesPodSource {
  return new KubernetesPodSource(
    { api: createKubeApi(access), derive: recordDeriver(), clock: systemClock, ...deps },
    {
      pageSize: 100,
      watchIdleTimeoutMs: 5_000,
      watchTimeoutSeconds: 60,
      backoff: { baseMs: 20, capMs: 200 },
      ...options,
    },
  );
}
