// Which endpoint a forward-auth request asks about: the X-Podgate-Endpoint header or the
// `endpoint` query parameter. A proxy sets one of them; a client may be able to reach the
// other (nginx, Traefik and Caddy pass the client's headers on, Envoy appends the client's
// path and query). So the two must agree when both are given, and neither may be given twice:
// otherwise a client could pick the endpoint with the most lenient policy.
import type { CompiledEndpoint, PolicyConfig } from '@podgate/policy';

export const ENDPOINT_HEADER = 'x-podgate-endpoint';
export const ENDPOINT_QUERY = 'endpoint';

export type EndpointChoice =
  | { ok: true; endpoint: CompiledEndpoint }
  | { ok: false; code: 'invalid_request' | 'unknown_endpoint'; message: string };

const MAX_URL_LENGTH = 2048;

export function chooseEndpoint(
  config: PolicyConfig,
  header: string | null,
  queries: readonly string[] | undefined,
): EndpointChoice {
  if (queries !== undefined && queries.length > 1) {
    return refuse(
      'invalid_request',
      `the ${ENDPOINT_QUERY} query parameter is given ${queries.length} times`,
    );
  }
  // Fetch joins repeated header fields with ", "; endpoint URLs hold no comma.
  if (header?.includes(',')) {
    return refuse('invalid_request', 'X-Podgate-Endpoint is given more than once');
  }
  const fromHeader = header === null ? undefined : header.trim();
  const fromQuery = queries?.[0];
  if (fromHeader === undefined && fromQuery === undefined) {
    return refuse(
      'invalid_request',
      `no endpoint: set the X-Podgate-Endpoint header or the ${ENDPOINT_QUERY} query parameter to the endpoint's URL`,
    );
  }
  const byHeader =
    fromHeader === undefined ? undefined : findEndpoint(config, fromHeader, 'X-Podgate-Endpoint');
  if (byHeader !== undefined && !byHeader.ok) return byHeader;
  const byQuery =
    fromQuery === undefined ? undefined : findEndpoint(config, fromQuery, `?${ENDPOINT_QUERY}=`);
  if (byQuery !== undefined && !byQuery.ok) return byQuery;
  if (byHeader !== undefined && byQuery !== undefined && byHeader.endpoint !== byQuery.endpoint) {
    return refuse(
      'invalid_request',
      'X-Podgate-Endpoint and the endpoint query parameter name different endpoints',
    );
  }
  return (byHeader ?? byQuery)!;
}

/** The endpoint whose URL is `url` (`what` names where it came from in messages). */
export function findEndpoint(config: PolicyConfig, url: string, what = 'endpoint'): EndpointChoice {
  if (url === '' || url.length > MAX_URL_LENGTH) {
    return refuse(
      'invalid_request',
      `${what}: expected an endpoint URL of 1 to ${MAX_URL_LENGTH} characters`,
    );
  }
  const endpoint = cachedFind(config, url);
  if (endpoint === undefined) {
    const shown = JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url);
    return refuse('unknown_endpoint', `${what}: no endpoint with url ${shown} in the loaded configuration`);
  }
  return { ok: true, endpoint };
}

/**
 * The endpoints asked for are the few a proxy's configuration names, on every request: their
 * URLs are parsed once per loaded configuration. Only found ones are kept, at most
 * MAX_CACHED per configuration, so a caller sending a new URL each time grows nothing.
 */
const found = new WeakMap<PolicyConfig, Map<string, CompiledEndpoint>>();
const MAX_CACHED = 1024;

function cachedFind(config: PolicyConfig, url: string): CompiledEndpoint | undefined {
  let byUrl = found.get(config);
  const hit = byUrl?.get(url);
  if (hit !== undefined) return hit;
  const endpoint = config.findEndpoint(url);
  if (endpoint === undefined) return undefined;
  if (byUrl === undefined) {
    byUrl = new Map();
    found.set(config, byUrl);
  }
  if (byUrl.size < MAX_CACHED) byUrl.set(url, endpoint);
  return endpoint;
}

function refuse(code: 'invalid_request' | 'unknown_endpoint', message: string): EndpointChoice {
  return { ok: false, code, message };
}
