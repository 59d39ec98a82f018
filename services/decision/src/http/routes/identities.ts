// GET /v1/identities/{ip}: the identity the policies would see for that IP, looked up in the
// consulted clusters exactly as a decision does: the pod (`identity`, as the decision shows it)
// or, with ERR_NGROK_28001 in `identity.metadata.error_code`, why not (`lookup.reason`:
// not_found, ambiguous, stale_cluster, store_unavailable). Always 200 for a valid IP: the
// answer is what a policy reads, and a policy reads that too.
import { podVarsFromLookup, tryNormalizeIp } from '@podgate/identity';
import { decisionJson } from '@podgate/policy';
import type { Hono } from 'hono';
import type { AppContext, AppEnv, RouteContext } from '../context.js';
import { ApiError, shown } from '../errors.js';
import { jsonResponse } from '../respond.js';

export function registerIdentities(app: Hono<AppEnv>, route: RouteContext): void {
  app.get('/v1/identities/:ip', async (c: AppContext) => {
    const raw = c.req.param('ip') ?? '';
    const ip = tryNormalizeIp(raw);
    if (ip === null) {
      throw new ApiError(
        'invalid_ip',
        `not an IP address: ${shown(raw)} (IPv4 dotted quad or IPv6, no zone, no prefix length)`,
      );
    }
    const started = route.now();
    const lookup = await route.lookup(ip);
    const lookupMs = route.now() - started;
    // The identity and lookup parts of the decision's JSON form, so both read alike.
    const { identity, lookup: reason } = decisionJson({
      endpoint: '',
      clientIp: ip,
      decision: { allowed: false, action: 'error', logs: [], vars: {} },
      pod: podVarsFromLookup(lookup),
      lookup,
    });
    return jsonResponse(200, {
      ip,
      clusters: route.deps.clusters,
      identity,
      lookup: reason,
      lookup_ms: Math.round(lookupMs * 1000) / 1000,
    });
  });
}
