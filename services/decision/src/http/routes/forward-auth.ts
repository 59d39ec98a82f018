// /v1/forward-auth, any method, any path below it (Envoy's HTTP ext_authz appends the original
// path to its prefix): the proxy in front of an upstream asks whether its client may pass.
// 200 allows, with the identity in X-Podgate-Pod-* headers for the proxy to hand upstream;
// 403 denies. The client is the TCP peer, or what a trusted proxy's headers say (client-ip.ts).
// The body, if a proxy sends one, is never read.
import { logJsonFields } from '@podgate/runtime';
import type { Hono } from 'hono';
import { resolveClient } from '../../client-ip.js';
import { decisionAnswerJson, settleDecision } from '../../decide.js';
import { chooseEndpoint, ENDPOINT_HEADER, ENDPOINT_QUERY } from '../../endpoint-param.js';
import type { LiveConfig } from '../../live-config.js';
import { decisionLogFields, requestIdOf } from '../../log-line.js';
import { type AppContext, type AppEnv, headerOf, peerOf, type RouteContext } from '../context.js';
import type { Guard } from '../guard.js';
import { emptyResponse } from '../respond.js';
import { DRY_RUN_HEADER, headerValue, IDENTITY_HEADERS } from './common.js';

export const FORWARD_AUTH_PATHS = ['/v1/forward-auth', '/v1/forward-auth/*'] as const;

export function registerForwardAuth(app: Hono<AppEnv>, route: RouteContext, guard: Guard): void {
  const { deps, respond } = route;
  // Whether each peer is a trusted proxy, worked out once per connection (peerOf keeps one
  // peer object per socket; the trusted list is fixed for the service's life).
  const peerTrust = new WeakMap<object, boolean>();
  const trustedPeer = (peer: { ip: string }) => {
    let known = peerTrust.get(peer);
    if (known === undefined && deps.trustedProxies !== null) {
      known = deps.trustedProxies.contains(peer.ip);
      peerTrust.set(peer, known);
    }
    return known ?? false;
  };
  const handler = async (c: AppContext, live: LiveConfig) => {
    const choice = chooseEndpoint(
      live.policy,
      headerOf(c, ENDPOINT_HEADER) ?? null,
      c.req.queries(ENDPOINT_QUERY),
    );
    if (!choice.ok) return respond(choice.code, choice.message);
    const peer = peerOf(c);
    if (peer === null) return respond('internal_error', 'the address of the peer is unknown');
    const resolved = resolveClient({
      peer,
      forwardedFor: headerOf(c, 'x-forwarded-for') ?? null,
      realIp: headerOf(c, 'x-real-ip') ?? null,
      trusted: deps.trustedProxies,
      peerTrusted: trustedPeer(peer),
    });
    if (!resolved.ok) return respond('invalid_request', resolved.message);
    const { client } = resolved;
    const endpoint = choice.endpoint;
    const startedAt = new Date(route.clock.now());
    const lookupStarted = route.now();
    // The lookup awaited here, not inside a decide(): one promise and one turn fewer.
    const lookup = await route.lookup(client.ip);
    const outcome = settleDecision(
      { endpoint, client, server: { ip: '', port: endpoint.url.port }, startedAt },
      lookup,
      route.now() - lookupStarted,
    );
    deps.metrics.decision('forward_auth', outcome);
    if (deps.logger.isLevelEnabled('info')) {
      const answer = decisionAnswerJson(outcome);
      const requestId = requestIdOf(headerOf(c, 'x-request-id'));
      logJsonFields(
        deps.logger,
        'info',
        decisionLogFields('forward_auth', outcome, client, peer, requestId, answer),
        'decision',
      );
    }
    if (!outcome.allowed) {
      // The body goes back to the client through Traefik and Caddy: it names no rule or identity.
      return respond('access_denied', "denied by the endpoint's policy", { count: false });
    }
    // Always all four, empty when unknown, so a proxy that copies them replaces any a client sent.
    // The dry-run verdict too, empty off dry run: Envoy's allowed_upstream_headers overrides only
    // the headers the answer carries, so without it a client's own X-Podgate-Dry-Run-Verdict
    // reached the upstream (and Caddy 2.6's copy_headers sent its placeholder's text).
    const { pod } = outcome;
    const headers: Record<string, string> = {
      [IDENTITY_HEADERS.name]: headerValue(pod.name),
      [IDENTITY_HEADERS.namespace]: headerValue(pod.namespace),
      [IDENTITY_HEADERS.id]: headerValue(pod.id),
      [IDENTITY_HEADERS.cluster]: headerValue(pod.cluster),
      [DRY_RUN_HEADER]: outcome.dryRun ?? '',
    };
    return emptyResponse(200, headers);
  };
  const guarded = guard.wrap('forward_auth', handler);
  for (const path of FORWARD_AUTH_PATHS) app.all(path, guarded);
}
