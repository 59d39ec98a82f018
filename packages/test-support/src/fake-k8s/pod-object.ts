import { randomUUID } from 'node:crypto';
import type { FakePod } from './types.js';

export function podObject(init: {
  name: string;
  namespace?: string;
  ip?: string | null;
  ips?: string[];
  uid?: string;
  phase?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
}): FakePod {
  const ips = init.ips ?? (init.ip ? [init.ip] : []);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: init.name,
      namespace: init.namespace ?? 'default',
      uid: init.uid ?? randomUUID(),
      ...(init.labels ? { labels: init.labels } : {}),
      ...(init.annotations ? { annotations: init.annotations } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'example/app:1' }], hostNetwork: init.hostNetwork ?? false },
    status: {
      phase: init.phase ?? 'Running',
      ...(ips[0] ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    },
  };
}
