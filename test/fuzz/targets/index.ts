// Every fuzz target by name, loaded on demand: each runs in its own process, so that V8's
// coverage report (read per batch) holds only the scripts that target needs.
import type { FuzzTarget } from '../harness.js';

export const TARGETS: Readonly<Record<string, () => Promise<FuzzTarget>>> = {
  'proxy-v1': async () => (await import('./proxy-protocol.js')).proxyProtocolTarget(1),
  'proxy-v2': async () => (await import('./proxy-protocol.js')).proxyProtocolTarget(2),
  resp: async () => (await import('./resp.js')).respTarget,
  'watch-lines': async () => (await import('./watch-lines.js')).watchLinesTarget,
  'policy-yaml': async () => (await import('./policy.js')).policyYamlTarget,
  'policy-cel': async () => (await import('./policy.js')).policyCelTarget,
  'yaml-depth': async () => (await import('./yaml-depth.js')).yamlDepthTarget,
};
