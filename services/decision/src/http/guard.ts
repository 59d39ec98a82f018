// What stands before every /v1 handler: the configuration in force, read once (a reload in the
// middle of a request changes nothing for it), the bearer token, the body limit, and the
// request-duration histogram. As Hono middleware for the routes that are asked rarely; folded
// into the handler itself for the two that decide on every proxied request, where each Hono
// middleware layer (an async function, a promise, a compose step) cost about a microsecond and
// a half, measured (docs/adr/0006-decision-hot-path.md). Both forms share every check below.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bearerToken } from '../auth/tokens.js';
import type { LiveConfig } from '../live-config.js';
import { type AppContext, type AppEnv, type DecisionAppDeps, headerOf } from './context.js';
import type { ErrorResponder } from './errors.js';

const FORWARD_AUTH_PREFIX = '/v1/forward-auth';

/** The route a /v1 path belongs to, for the request-duration histogram (bounded labels). */
export function routeName(path: string): string {
  if (path === FORWARD_AUTH_PREFIX || path.startsWith(`${FORWARD_AUTH_PREFIX}/`)) return 'forward_auth';
  if (path === '/v1/decisions') return 'decisions';
  if (path === '/v1/validate') return 'validate';
  if (path.startsWith('/v1/identities/')) return 'identities';
  return 'other';
}

/** A deciding route's handler, given the configuration in force (read once for the request). */
type DecidingHandler = (c: AppContext, live: LiveConfig) => Response | Promise<Response>;
type Handler = (c: AppContext) => Response | Promise<Response>;

export interface Guard {
  /** The checks as Hono middleware, for `app.use('/v1/*')`. */
  middleware: MiddlewareHandler<AppEnv>;
  /** The body limit alone, as middleware (POST /v1/validate). */
  limit: MiddlewareHandler<AppEnv>;
  /** A handler with every check folded in: mounted before the /v1 middleware, it ends the chain. */
  wrap(
    route: 'decisions' | 'forward_auth',
    handler: DecidingHandler,
    options?: { limitBody?: boolean },
  ): Handler;
}

export function createGuard(
  deps: DecisionAppDeps,
  respond: ErrorResponder,
  now: () => number,
  onError: (error: Error, c: AppContext) => Response,
): Guard {
  /** The configuration in force when the request may go on; else the 401 to answer. */
  const authorize = (c: AppContext, forwardAuth: boolean): LiveConfig | Response => {
    const live = deps.config();
    if (live.tokens === null) return live;
    const presented = bearerToken(headerOf(c, 'authorization'));
    let ok = presented !== null && live.tokens.matches(presented);
    // RFC 6750's access_token query parameter, for forward-auth callers that cannot add a
    // header to the request they send (Traefik's ForwardAuth).
    let query: string | undefined;
    if (!ok && forwardAuth) {
      query = c.req.query('access_token');
      ok = query !== undefined && live.tokens.matches(query);
    }
    if (ok) return live;
    // A wrong access_token is a wrong token too (invalid_token, as docs/decision.md says), not
    // a missing one: it was answered as if no token had been sent.
    const given = headerOf(c, 'authorization') !== undefined || query !== undefined;
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
  };

  const tooLarge = () =>
    respond('payload_too_large', `the body is larger than ${deps.maxBodyBytes} bytes (--max-body-size)`);
  const streamed = bodyLimit({ maxSize: deps.maxBodyBytes, onError: tooLarge });
  /**
   * With a Content-Length (Node's parser holds the body to it) the header decides, and the body
   * is left to the server's fast read: Hono's bodyLimit touches the request's web stream, which
   * costs @hono/node-server its fast path (several times the whole request's time). A chunked
   * body, with no length to trust, is counted as it streams. Returns the 413, or null.
   */
  const sizedTooLarge = (c: AppContext): Response | null | 'stream' => {
    const length = headerOf(c, 'content-length');
    if (length !== undefined && headerOf(c, 'transfer-encoding') === undefined) {
      return Number(length) > deps.maxBodyBytes ? tooLarge() : null;
    }
    return 'stream';
  };

  const limit: MiddlewareHandler<AppEnv> = async (c, next) => {
    const sized = sizedTooLarge(c);
    if (sized === 'stream') return streamed(c, next);
    if (sized !== null) return sized;
    await next();
  };

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = now();
    const live = authorize(c, routeName(c.req.path) === 'forward_auth');
    if (live instanceof Response) return live;
    c.set('live', live);
    await next();
    deps.metrics.request(routeName(c.req.path), (now() - started) / 1000);
  };

  const wrap: Guard['wrap'] = (route, handler, options = {}) => {
    // As Hono's compose would: the app's error handler answers what the handler threw.
    const failed = (error: unknown, c: AppContext) =>
      onError(error instanceof Error ? error : new Error(String(error)), c);
    // Not an async function: a handler's promise is followed with one `then`, where awaiting it
    // in an async wrapper cost a promise and a turn more on every decision (measured with the
    // handlers' own restructuring: docs/decision.md).
    return (c) => {
      const started = now();
      const live = authorize(c, route === 'forward_auth');
      if (live instanceof Response) return live;
      const timed = (res: Response) => {
        deps.metrics.request(route, (now() - started) / 1000);
        return res;
      };
      const sized = options.limitBody ? sizedTooLarge(c) : null;
      if (sized === 'stream') {
        let answered: Response | undefined;
        return streamed(c, async () => {
          try {
            answered = await handler(c, live);
          } catch (error) {
            answered = failed(error, c);
          }
        }).then((over) => timed(over instanceof Response ? over : answered!));
      }
      if (sized !== null) return timed(sized);
      let answer: Response | Promise<Response>;
      try {
        answer = handler(c, live);
      } catch (error) {
        return timed(failed(error, c));
      }
      if (!(answer instanceof Promise)) return timed(answer);
      return answer.then(timed, (error: unknown) => timed(failed(error, c)));
    };
  };

  return { middleware, limit, wrap };
}
