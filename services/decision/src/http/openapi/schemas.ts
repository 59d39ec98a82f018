// The OpenAPI document's schemas. The request body of POST /v1/decisions is the zod schema
// the route validates with, turned into JSON Schema, so the two cannot disagree.
import { codesIn, ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from '@podgate/errors';
import { z } from 'zod';
import { decisionRequestSchema } from '../routes/decisions.js';

function requestSchema(): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(decisionRequestSchema) as Record<string, unknown>;
  return schema;
}

const httpCodes = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
  (code) => (ERROR_CODES[code] as ErrorCodeInfo).status !== undefined,
);

const identity = {
  type: 'object',
  description: 'conn.k8s.pod.* and conn.k8s.cluster as the policy saw them ("" and {} when not found).',
  required: ['id', 'metadata', 'cluster'],
  properties: {
    id: { type: 'string', description: 'The pod UID.' },
    metadata: {
      type: 'object',
      required: ['name', 'namespace', 'annotations', 'error_code', 'error_message'],
      properties: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
        error_code: {
          type: 'string',
          enum: ['', 'ERR_NGROK_28000', 'ERR_NGROK_28001'],
          description:
            '"" with identity; ERR_NGROK_28001 without; ERR_NGROK_28000 when annotations were cut.',
        },
        error_message: { type: 'string' },
      },
    },
    cluster: { type: 'string', description: 'The cluster the identity came from.' },
  },
};

const lookup = {
  description: 'Whether the lookup found the pod, and if not, why.',
  oneOf: [
    { type: 'object', required: ['found'], properties: { found: { const: true } } },
    {
      type: 'object',
      required: ['found', 'reason', 'message'],
      properties: {
        found: { const: false },
        reason: { enum: [...codesIn('lookup'), 'store_unavailable'] },
        message: { type: 'string' },
      },
    },
  ],
};

const jsonMap = { type: 'object', additionalProperties: true };
const OMITTED = {
  type: 'integer',
  minimum: 1,
  description: 'Only when some were left out: how many past the first 100.',
};

export const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { enum: httpCodes, description: 'The error table (docs/errors.md); the status follows it.' },
          message: { type: 'string', description: 'For people; safe to show (no stack, no secret).' },
        },
      },
    },
  },
  DecisionRequest: requestSchema(),
  Decision: {
    type: 'object',
    description:
      'The decision `podgate eval` prints. On a dry-run endpoint `allowed` is true whatever the policy said, `dry_run.verdict` is what it said, and action, rule, expression and error describe that.',
    required: [
      'endpoint',
      'client_ip',
      'allowed',
      'action',
      'target',
      'rule',
      'expression',
      'error',
      'logs',
      'vars',
      'identity',
      'lookup',
    ],
    properties: {
      endpoint: { type: 'string' },
      client_ip: { type: 'string', description: 'Canonical (IPv4-mapped IPv6 as IPv4).' },
      allowed: { type: 'boolean', description: 'What the caller must do.' },
      action: { enum: ['deny', 'close-connection', 'restrict-ips', 'forward-internal', 'upstream', 'error'] },
      target: { type: ['string', 'null'], description: 'Where an allowed connection goes (as configured).' },
      rule: {
        type: ['object', 'null'],
        description: 'The rule that decided, numbered from 1; null for an upstream default.',
        properties: { number: { type: 'integer' }, name: { type: 'string' } },
      },
      expression: {
        type: ['object', 'null'],
        description: 'The expression that failed to evaluate (action error), numbered from 1.',
        properties: { number: { type: 'integer' }, source: { type: 'string' } },
      },
      error: {
        type: ['object', 'null'],
        properties: { code: { enum: codesIn('policy') }, message: { type: 'string' } },
      },
      logs: { type: 'array', items: jsonMap, description: 'Every log action that ran, in order.' },
      vars: jsonMap,
      identity: { $ref: '#/components/schemas/Identity' },
      lookup: { $ref: '#/components/schemas/Lookup' },
      dry_run: {
        type: 'object',
        description: 'Only on a dry-run endpoint (annotation podgate.io/dry-run: "true").',
        required: ['verdict'],
        properties: { verdict: { enum: ['allow', 'deny'] } },
      },
    },
  },
  Identity: identity,
  Lookup: lookup,
  IdentityAnswer: {
    type: 'object',
    required: ['ip', 'clusters', 'identity', 'lookup', 'lookup_ms'],
    properties: {
      ip: { type: 'string', description: 'The IP, canonical.' },
      clusters: { type: 'array', items: { type: 'string' }, description: 'The clusters consulted.' },
      identity: { $ref: '#/components/schemas/Identity' },
      lookup: { $ref: '#/components/schemas/Lookup' },
      lookup_ms: { type: 'number' },
    },
  },
  Diagnostic: {
    type: 'object',
    required: ['severity', 'file', 'line', 'column', 'message', 'text'],
    properties: {
      severity: { enum: ['error', 'warning'] },
      file: { type: 'string', description: 'request.yaml: the body.' },
      line: { type: 'integer', description: 'From 1.' },
      column: { type: 'integer', description: 'From 1.' },
      message: { type: 'string' },
      text: {
        type: 'string',
        description: '`file:line:column: severity: message`, as podgate validate prints it.',
      },
    },
  },
  Valid: {
    type: 'object',
    required: ['valid', 'endpoints', 'policies', 'diagnostics'],
    properties: {
      valid: { const: true },
      endpoints: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            url: { type: 'string' },
            kind: { enum: ['AgentEndpoint', 'CloudEndpoint'] },
            name: { type: 'string' },
            namespace: { type: 'string' },
            dry_run: { type: 'boolean', description: 'Annotated podgate.io/dry-run: "true".' },
          },
        },
      },
      policies: {
        type: 'array',
        items: {
          type: 'object',
          properties: { kind: { type: 'string' }, name: { type: 'string' }, namespace: { type: 'string' } },
        },
      },
      diagnostics: {
        type: 'array',
        maxItems: 100,
        items: { $ref: '#/components/schemas/Diagnostic' },
        description: 'Warnings only: at most 100; messages cut at 500 characters.',
      },
      diagnostics_omitted: OMITTED,
    },
  },
  Invalid: {
    allOf: [
      { $ref: '#/components/schemas/Error' },
      {
        type: 'object',
        required: ['diagnostics'],
        properties: {
          diagnostics: {
            type: 'array',
            maxItems: 100,
            items: { $ref: '#/components/schemas/Diagnostic' },
            description: 'Errors, then warnings: at most 100; messages cut at 500 characters.',
          },
          diagnostics_omitted: OMITTED,
        },
      },
    ],
  },
  Readiness: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { enum: ['ready', 'not ready'] },
      store: { type: 'string', description: '"reachable", or "unreachable: why".' },
      endpoints: { type: 'integer', description: 'Endpoints in the configuration in force.' },
      stopping: { const: true },
    },
    additionalProperties: true,
  },
};
