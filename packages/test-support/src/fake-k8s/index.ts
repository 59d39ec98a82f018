export { podObject } from './pod-object.js';
export { startFakeK8sApi } from './server.js';
export type { FakeK8sApi, FakeK8sApiOptions, FakePod, Lease } from './types.js';
