// The decision service's HTTP app, built from its dependencies: /healthz, /readyz, /metrics
// and the OpenAPI document without credentials; everything under /v1 behind bearer tokens
// (or, with --insecure-no-auth, open). Tests run it in-process with `app.request`, and the
// service serves it on @hono/node-server. Documented in docs/openapi/decision.yaml.
import { createAdminApp, systemClock } from '@podgate/runtime';
import { Hono } from 'hono';
import { defaultValidator } from '../validate/default.js';
import type { AppEnv, DecisionAppDeps, RouteContext } from './context.js';
import { errorHandler, errorResponder, shown } from './errors.js';
import { createGuard } from './guard.js';
import { openApiJson, openApiYaml } from './openapi/document.js';
import { registerDecisions } from './routes/decisions.js';
import { registerForwardAuth } from './routes/forward-auth.js';
import { registerIdentities } from './routes/identities.js';
import { registerValidate } from './routes/validate.js';

/** A `.` or `..` path segment, either spelled with %2e, in a request target's path (not its query). */
const DOT_SEGMENT = /^[^?#]*\/(?:\.|%2e){1,2}(?:[/?#]|$)/i;

export function createDecisionApp(deps: DecisionAppDeps): Hono<AppEnv> {
  const respond = errorResponder(deps.metrics);
  const now = deps.now ?? (() => performance.now());
  const route: RouteContext = {
    deps,
    respond,
    clock: deps.clock ?? systemClock,
    now,
    lookup: (ip) => deps.store.lookup(ip, deps.clusters),
  };
  const app = new Hono<AppEnv>();
  const onError = errorHandler(respond, deps.logger);
  app.onError(onError);
  const guard = createGuard(deps, respond, now, onError);
  app.notFound((c) => respond('route_not_found', `no route ${c.req.method} ${shown(c.req.path, 200)}`));

  // Before routing, one layer for every request. A request is routed by the URL its target
  // resolves to (@hono/node-server parses it as WHATWG URL does): `/v1/forward-auth/../../healthz`
  // is /healthz, and `%2e%2e` is `..` too. Envoy's ext_authz appends its client's path to
  // /v1/forward-auth (as does a proxy that passes its $request_uri), so a client that put dot
  // segments in its own path had its forward-auth question answered by /healthz, /metrics,
  // /openapi.json or /v1/identities: a 200, which every proxy takes for an allow. A target whose
  // path has a dot segment is refused, unresolved; a proxy's own prefix never holds one.
  //
  // And Node's server.close() waits for keep-alive connections to go idle and close; a client (or
  // an nginx upstream pool) that keeps one open would hold the drain until its deadline.
  const stopping = deps.stopping;
  app.use('*', async (c, next) => {
    const target = c.env?.incoming?.url;
    if (target !== undefined && DOT_SEGMENT.test(target)) {
      return respond(
        'invalid_request',
        `the request path has a dot segment ("." or "..", or either percent-encoded): ${shown(target, 200)}`,
      );
    }
    await next();
    if (stopping?.()) c.res.headers.set('connection', 'close');
  });
  app.route('/', createAdminApp({ probe: { readiness: deps.readiness }, registry: deps.metrics.registry }));
  app.get('/openapi.json', (c) => c.json(openApiJson()));
  app.get('/openapi.yaml', (c) => c.text(openApiYaml(), 200, { 'content-type': 'application/yaml' }));

  // Every /v1 answer is built by respond.ts, with no-store and nosniff. The two routes that
  // decide carry the /v1 checks folded in and come first, so their handler ends the chain;
  // the rest go through the same checks as middleware (guard.ts).
  registerDecisions(app, route, guard);
  registerForwardAuth(app, route, guard);
  app.use('/v1/*', guard.middleware);
  app.use('/v1/validate', guard.limit);
  registerIdentities(app, route);
  registerValidate(app, route, deps.validator ?? defaultValidator());
  // A known path with another method: 405 with the methods it takes.
  for (const [path, allow] of [
    ['/v1/decisions', 'POST'],
    ['/v1/validate', 'POST'],
    ['/v1/identities/:ip', 'GET, HEAD'],
  ] as const) {
    app.all(path, (c) =>
      respond('method_not_allowed', `${c.req.method} is not allowed here; use ${allow}`, {
        headers: { allow },
      }),
    );
  }
  return app;
}
