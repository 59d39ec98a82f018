// The decision service's OpenAPI document, served at /openapi.json and /openapi.yaml. It lives
// here, beside the routes, because the service must serve it wherever it runs (the image holds
// no docs/); docs/openapi/decision.yaml is this document as YAML, and a test keeps the two
// equal and checks every path and status against the app.
import { stringify } from 'yaml';
import { FORWARD_AUTH_COMPONENTS, PATHS } from './paths.js';
import { SCHEMAS } from './schemas.js';

const response = (description: string, code: string) => ({
  description: `${description} (${code}).`,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Podgate decision service',
    version: '0.1.0',
    description: [
      'Pod-identity verdicts for other proxies and programs: a JSON API and a forward-auth endpoint.',
      'Stateless: each decision looks the client up in the shared identity store at decision time,',
      'so any number of replicas answer alike. Everything under /v1 needs a bearer token',
      '(`--token-file`) unless the service runs with `--insecure-no-auth`; /healthz, /readyz, /metrics',
      'and this document need none. Errors answer {"error": {"code", "message"}} with the codes and',
      'statuses of the error table; a path not listed here answers 404 route_not_found. Request bodies',
      'are limited to 1 MiB by default (`--max-body-size`).',
    ].join(' '),
  },
  servers: [{ url: 'http://localhost:9466', description: 'the default --listen' }],
  security: [{ bearer: [] }],
  paths: PATHS,
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'One of the tokens of --token-file.' },
      accessToken: {
        type: 'apiKey',
        in: 'query',
        name: 'access_token',
        description:
          'RFC 6750 section 2.3, on /v1/forward-auth only: for callers that cannot add a header (Traefik ForwardAuth).',
      },
    },
    schemas: SCHEMAS,
    parameters: FORWARD_AUTH_COMPONENTS.parameters,
    responses: {
      ...FORWARD_AUTH_COMPONENTS.responses,
      InvalidRequest: response(
        'A malformed request: a missing or bad field, header or body, or a bad IP',
        'invalid_request, invalid_ip',
      ),
      Unauthorized: response('No valid bearer token; WWW-Authenticate says Bearer', 'unauthorized'),
      MethodNotAllowed: response('The path takes another method; Allow lists it', 'method_not_allowed'),
      PayloadTooLarge: response('The body is larger than --max-body-size', 'payload_too_large'),
      UnknownEndpoint: response('No endpoint of the configuration has that URL', 'unknown_endpoint'),
      InternalError: response('An unexpected error; the log has the details', 'internal_error'),
    },
  },
} as const;

let yamlText: string | undefined;

export function openApiJson(): typeof OPENAPI_DOCUMENT {
  return OPENAPI_DOCUMENT;
}

/** The document as YAML; docs/openapi/decision.yaml holds exactly this text. */
export function openApiYaml(): string {
  yamlText ??= `# The Podgate decision service's API (OpenAPI 3.1), also served at /openapi.yaml.\n${stringify(OPENAPI_DOCUMENT, { lineWidth: 100, aliasDuplicateObjects: false })}`;
  return yamlText;
}
