// zod schemas for the Kubernetes envelopes. Rule structure is checked by hand in policy.ts, where
// messages can say "on_tcp_connect rule 2, action 1 (deny)"; each action's config schema is in
// its own module (../actions/).
import { z } from 'zod';

export const API_VERSION = 'ngrok.k8s.ngrok.com/v1alpha1';

const metadata = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  // Kubernetes annotation values are strings; Podgate reads podgate.io/dry-run.
  annotations: z.record(z.string(), z.string()).optional(),
});

const trafficPolicyRef = z.strictObject({
  inline: z.unknown().optional(),
  policy: z.unknown().optional(),
  targetRef: z.strictObject({ name: z.string().min(1) }).optional(),
});

const bindings = z.array(z.string()).optional();

export const agentEndpointSpec = z.strictObject({
  url: z.string(),
  upstream: z.strictObject({
    url: z.string(),
    protocol: z.enum(['http1', 'http2']).optional(),
    proxyProtocolVersion: z.union([z.enum(['1', '2']), z.literal(1), z.literal(2)]).optional(),
  }),
  trafficPolicy: trafficPolicyRef.optional(),
  bindings,
  description: z.string().optional(),
  metadata: z.string().optional(),
  clientCertificateRefs: z.array(z.unknown()).optional(),
});

export const cloudEndpointSpec = z.strictObject({
  url: z.string(),
  trafficPolicy: trafficPolicyRef.optional(),
  trafficPolicyName: z.string().optional(),
  bindings,
  description: z.string().optional(),
  metadata: z.string().optional(),
  poolingEnabled: z.boolean().optional(),
});

export const ngrokTrafficPolicySpec = z.strictObject({ policy: z.unknown() });

export const envelope = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.string(),
  metadata,
  spec: z.unknown(),
  status: z.unknown().optional(),
});

export type ZodIssue = z.core.$ZodIssue;

/** A zod issue in words; `keyOf` tells the caller to point at a key rather than a value. */
export function describeIssue(issue: ZodIssue): { message: string; path: PropertyKey[] } {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return {
      message: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`,
      path: keys.length > 0 ? [...path, keys[0]!] : path,
    };
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    const field = path[path.length - 1];
    return { message: `missing required field '${String(field)}'`, path: path.slice(0, -1) };
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return { message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, path };
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return { message: message.charAt(0).toLowerCase() + message.slice(1), path };
}
