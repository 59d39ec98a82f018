// POST /v1/decisions: `{"endpoint", "client_ip", "client_port"?, "server_ip"?, "server_port"?}`
// in, the decision `podgate eval` prints out (plus `dry_run` on a dry-run endpoint). The
// caller names the client: nothing here is read from forwarding headers.
import { tryNormalizeIp } from '@podgate/identity';
import { logJsonFields } from '@podgate/runtime';
import type { Hono } from 'hono';
import { z } from 'zod';
import { decisionAnswerJson, settleDecision } from '../../decide.js';
import { findEndpoint } from '../../endpoint-param.js';
import type { LiveConfig } from '../../live-config.js';
import { decisionLogFields, requestIdOf } from '../../log-line.js';
import { type AppContext, type AppEnv, headerOf, peerOf, type RouteContext } from '../context.js';
import { ApiError, shown } from '../errors.js';
import type { Guard } from '../guard.js';
import { jsonTextResponse } from '../respond.js';
import { DRY_RUN_HEADER, jsonBodyText, parseJsonBody } from './common.js';

const port = (field: string) =>
  z
    .number({ error: `${field}: expected a port number (an integer 0-65535)` })
    .int(`${field}: expected a port number (an integer 0-65535)`)
    .min(0, `${field}: expected a port number (an integer 0-65535)`)
    .max(65535, `${field}: expected a port number (an integer 0-65535)`);

const ip = (field: string) =>
  z
    .string({ error: `${field}: expected an IP address as a string` })
    .max(64, `${field}: too long for an IP address`);

export const decisionRequestSchema = z.strictObject(
  {
    endpoint: z
      .string({ error: 'endpoint: expected the endpoint URL as a string' })
      .min(1, 'endpoint: expected the endpoint URL')
      .max(2048, 'endpoint: longer than 2048 characters')
      .describe('The endpoint URL, as its spec.url says (tcp://ledger.payments:5432).'),
    client_ip: ip('client_ip').describe('The client IP: IPv4, IPv6 or IPv4-mapped IPv6 (conn.client_ip).'),
    client_port: port('client_port').optional().describe('conn.client_port; default 0.'),
    server_ip: ip('server_ip').optional().describe('conn.server_ip; default "".'),
    server_port: port('server_port')
      .optional()
      .describe("conn.server_port; default the endpoint URL's port."),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown field: ${issue.keys.join(', ')}` : undefined,
  },
);

export function registerDecisions(app: Hono<AppEnv>, route: RouteContext, guard: Guard): void {
  // Two turns of the event loop's microtasks: the body (read once Node's parser has it) and the
  // lookup. Each was an async function of its own before (the body's two, the decision's `then`):
  // a promise and a turn more each, on every decision.
  const handler = async (c: AppContext, live: LiveConfig) => {
    const body = parseJsonBody(await jsonBodyText(c));
    const parsed = decisionRequestSchema.safeParse(body);
    if (!parsed.success) {
      const message =
        body === null || typeof body !== 'object' || Array.isArray(body)
          ? 'the body must be a JSON object: {"endpoint": URL, "client_ip": IP}'
          : parsed.error.issues.map((i) => i.message).join('; ');
      throw new ApiError('invalid_request', message);
    }
    const request = parsed.data;
    const choice = findEndpoint(live.policy, request.endpoint);
    if (!choice.ok) throw new ApiError(choice.code, choice.message);
    const clientIp = tryNormalizeIp(request.client_ip);
    if (clientIp === null) {
      throw new ApiError('invalid_ip', `client_ip: not an IP address: ${shown(request.client_ip)}`);
    }
    let serverIp = '';
    if (request.server_ip !== undefined) {
      const normalized = tryNormalizeIp(request.server_ip);
      if (normalized === null) {
        throw new ApiError('invalid_ip', `server_ip: not an IP address: ${shown(request.server_ip)}`);
      }
      serverIp = normalized;
    }
    const endpoint = choice.endpoint;
    const client = { ip: clientIp, port: request.client_port ?? 0 };
    const startedAt = new Date(route.clock.now());
    const lookupStarted = route.now();
    const lookup = await route.lookup(clientIp);
    const outcome = settleDecision(
      {
        endpoint,
        client,
        server: { ip: serverIp, port: request.server_port ?? endpoint.url.port },
        startedAt,
      },
      lookup,
      route.now() - lookupStarted,
    );
    const answer = decisionAnswerJson(outcome);
    route.deps.metrics.decision('decisions', outcome);
    logJsonFields(
      route.deps.logger,
      'info',
      decisionLogFields(
        'decisions',
        outcome,
        { ...client, from: 'body' },
        peerOf(c) ?? { ip: '', port: 0 },
        requestIdOf(headerOf(c, 'x-request-id')),
        answer,
      ),
      'decision',
    );
    return jsonTextResponse(
      200,
      answer,
      outcome.dryRun === undefined ? undefined : { [DRY_RUN_HEADER]: outcome.dryRun },
    );
  };
  app.post('/v1/decisions', guard.wrap('decisions', handler, { limitBody: true }));
}
