// Shared builders for this package's tests.
import type { ConnInfo, PodVars, TcpConnectInput } from './types.js';

export const conn: ConnInfo = {
  clientIp: '10.0.0.5',
  clientPort: 40000,
  serverIp: '10.0.0.1',
  serverPort: 80,
  startedAt: new Date('2025-01-01T00:00:00Z'),
};

export function pod(overrides: Partial<PodVars> = {}): PodVars {
  return {
    id: '0b6f3e2a-1111-4222-8333-944455556666',
    name: 'worker-a',
    namespace: 'payments',
    annotations: { 'k8s.ngrok.com/environment': 'production' },
    cluster: 'east',
    errorCode: '',
    errorMessage: '',
    ...overrides,
  };
}

/** No identity: what a reader hands over for ERR_NGROK_28001. */
export const missing: PodVars = {
  id: '',
  name: '',
  namespace: '',
  annotations: {},
  cluster: '',
  errorCode: 'ERR_NGROK_28001',
  errorMessage: 'Failed to retrieve pod identity metadata',
};

/** Identity present, annotations truncated. */
export function truncated(overrides: Partial<PodVars> = {}): PodVars {
  return pod({
    annotations: {},
    errorCode: 'ERR_NGROK_28000',
    errorMessage: 'Pod identity metadata too large: annotations exceed 1024 bytes',
    ...overrides,
  });
}

export function input(p: PodVars, c: Partial<ConnInfo> = {}): TcpConnectInput {
  return { conn: { ...conn, ...c }, pod: p };
}
