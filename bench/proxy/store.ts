// What the proxy benchmarks (proxy.bench.ts, proxy/ab.ts) share: the configuration the proxy
// runs (the seed's fail-closed namespace policy, forward-internal to nginx) and the Redis that
// answers its lookups, pinned to the load core and seeded with the one pod wrk connects as.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRedisIdentityStore } from '@podgate/identity';
import { type RedisServer, redisCli, startRedis } from '@podgate/test-support';

export const benchConfig = (nginxPort: number) => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: web-internal, namespace: payments}
spec:
  url: http://web.payments.internal
  upstream: {url: "http://127.0.0.1:${nginxPort}"}
---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: web, namespace: payments}
spec:
  url: http://web.payments
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
        - expressions:
            - conn.k8s.pod.metadata.error_code != ""
          actions:
            - type: deny
        - expressions:
            - conn.k8s.pod.metadata.namespace != "payments"
          actions:
            - type: deny
        - actions:
            - type: forward-internal
              config:
                url: http://web.payments.internal
`;

/**
 * Redis for the lookups, on `loadCore` at real-time priority where allowed. It stands for a
 * store on a host of its own: on the proxies' core it would take turns with the proxy measured
 * (the bare pipe and HAProxy make none), and on the load core at normal priority a lookup
 * waited for the load generator's time slice (lookup p99 1.8 ms at 1,000 connections/s,
 * against 0.3 ms at real-time priority, measured). Seeded with the pod wrk connects as
 * (127.0.0.1, namespace payments: the pod the policy allows). The caller stops it.
 */
export async function startBenchRedis(loadCore: number): Promise<{ redis: RedisServer; priority: string }> {
  const redis = await startRedis();
  try {
    const redisPid = /process_id:(\d+)/.exec(await redisCli(redis.port, ['INFO', 'server']))?.[1];
    if (redisPid === undefined) throw new Error('redis-server did not say its process id');
    await promisify(execFile)('taskset', ['-p', '-c', String(loadCore), redisPid]);
    const priority = await promisify(execFile)('chrt', ['-f', '-p', '10', redisPid]).then(
      () => 'at real-time priority (chrt -f 10)',
      () => 'at normal priority (chrt refused real-time priority)',
    );
    const writer = await createRedisIdentityStore({ url: redis.url });
    await writer.heartbeat('bench', 3_600_000);
    await writer.reconcile('bench', [
      {
        uid: '00000000-0000-4000-8000-000000000001',
        name: 'bench-client',
        namespace: 'payments',
        annotations: {},
        errorCode: '',
        errorMessage: '',
        ips: ['127.0.0.1'],
        resourceVersion: '1',
      },
    ]);
    await writer.close();
    return { redis, priority };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}
