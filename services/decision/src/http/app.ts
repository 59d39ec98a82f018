// The decision service's HTTP app, built from its dependencies: /healthz, /readyz, /metrics
// and the OpenAPI document without credentials; everything under /v1 behind bearer tokens
// (or, with --insecure-no-auth, open). Tests run it in-process with `app.request`, and the
// service serves it on @hono/node-server. Documented in docs/openapi/decision.yaml.
import { createAdminApp, systemClock } from '@podgate/runtime';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bearerToken } from '../auth/tokens.js';
import {
  type AppContext,
  type AppEnv,
  type DecisionAppDeps,
  headerOf,
  type RouteContext,
} from './context.js';
import { errorHandler, errorResponder, shown } from './errors.js';
import { openApiJson, openApiYaml } from './openapi/document.js';
import { registerDecisions } from './routes/decisions.js';
import { registerForwardAuth } from './routes/forward-auth.js';
import { registerIdentities } from './routes/identities.js';
import { registerValidate } from './routes/validate.js';

const FORWARD_AUTH_PREFIX = '/v1/forward-auth';

/** The route a /v1 path belongs to, for the request-duration histogram (bounded labels). */
function routeName(path: string): string {
  if (path === FORWARD_AUTH_PREFIX || path.startsWith(`${FORWARD_AUTH_PREFIX}/`)) return 'forward_auth';
  if (path === '/v1/decisions') return 'decisions';
  if (path === '/v1/validate') return 'validate';
  if (path.startsWith('/v1/identities/')) return 'identities';
  return 'other';
}

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
  app.onError(errorHandler(respond, deps.logger));
  app.notFound((c) => respond('route_not_found', `no route ${c.req.method} ${shown(c.req.path, 200)}`));

  // Node's server.close() waits for keep-alive connections to go idle and close; a client (or
  // an nginx upstream pool) that keeps one open would hold the drain until its deadline.
  if (deps.stopping !== undefined) {
    const stopping = deps.stopping;
    app.use('*', async (c, next) => {
      await next();
      if (stopping()) c.res.headers.set('connection', 'close');
    });
  }
  app.route('/', createAdminApp({ probe: { readiness: deps.readiness }, registry: deps.metrics.registry }));
  app.get('/openapi.json', (c) => c.json(openApiJson()));
  app.get('/openapi.yaml', (c) => c.text(openApiYaml(), 200, { 'content-type': 'application/yaml' }));

  // The configuration in force is read once here, so a reload mid-request changes nothing for
  // it; then the token. (Every /v1 answer is built by respond.ts, with no-store and nosniff.)
  app.use('/v1/*', async (c: AppContext, next) => {
    const started = now();
    const live = deps.config();
    c.set('live', live);
    if (live.tokens !== null) {
      const presented = bearerToken(headerOf(c, 'authorization'));
      let ok = presented !== null && live.tokens.matches(presented);
      // RFC 6750's access_token query parameter, for forward-auth callers that cannot add a
      // header to the request they send (Traefik's ForwardAuth).
      if (!ok && routeName(c.req.path) === 'forward_auth') {
        const query = c.req.query('access_token');
        ok = query !== undefined && live.tokens.matches(query);
      }
      if (!ok) {
        const given = headerOf(c, 'authorization') !== undefined;
        return respond(
          'unauthorized',
          given ? 'the bearer token is not valid' : 'a bearer token is required: Authorization: Bearer TOKEN',
          {
            headers: {
              'www-authenticate': given
                ? 'Bearer realm="podgate", error="invalid_token"'
                : 'Bearer realm="podgate"',
            },
          },
        );
      }
    }
    await next();
    deps.metrics.request(routeName(c.req.path), (now() - started) / 1000);
  });
  const tooLarge = () =>
    respond('payload_too_large', `the body is larger than ${deps.maxBodyBytes} bytes (--max-body-size)`);
  const streamed = bodyLimit({ maxSize: deps.maxBodyBytes, onError: tooLarge });
  // With a Content-Length (Node's parser holds the body to it) the header decides, and the body
  // is left to the server's fast read: Hono's bodyLimit touches the request's web stream, which
  // costs @hono/node-server its fast path (several times the whole request's time). A chunked
  // body, with no length to trust, is counted as it streams.
  const limit = async (c: AppContext, next: () => Promise<void>) => {
    const length = headerOf(c, 'content-length');
    if (length !== undefined && headerOf(c, 'transfer-encoding') === undefined) {
      if (Number(length) > deps.maxBodyBytes) return tooLarge();
      return next();
    }
    return streamed(c, next);
  };
  app.use('/v1/decisions', limit);
  app.use('/v1/validate', limit);

  registerDecisions(app, route);
  registerIdentities(app, route);
  registerValidate(app, route);
  registerForwardAuth(app, route);
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
