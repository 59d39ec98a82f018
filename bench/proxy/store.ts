// What the proxy benchmarks (proxy.bench.ts, proxy/ab.ts) share: the configuration the proxy
// runs (the seed's fail-closed namespace policy, forward-internal to nginx) and the Redis that
// answers its lookups, pinned to the load core and seeded with the one pod wrk connects as.
import { createRedisIdentityStore } from '@podgate/identity';
import { type RedisServer, startRedis } from '@podgate/test-support';
import { pinRedis } from '../pin-redis.js';

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
 * Redis for the lookups, on `loadCore` (pin-redis.ts), seeded with the pod wrk connects as
 * (127.0.0.1, namespace payments: the pod the policy allows). The caller stops it.
 */
export async function startBenchRedis(loadCore: number): Promise<{ redis: RedisServer; priority: string }> {
  const redis = await startRedis();
  try {
    const priority = await pinRedis(redis.port, loadCore);
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
