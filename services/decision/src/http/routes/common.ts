// What several routes share: reading a JSON body, and the headers a decision is told in.
import { type AppContext, headerOf, type NodeBindings } from '../context.js';
import { ApiError } from '../errors.js';

/** On a dry-run endpoint: the verdict its policy gave (`allow` or `deny`); the answer allows. */
export const DRY_RUN_HEADER = 'x-podgate-dry-run-verdict';

/** The identity a forward-auth allow tells the proxy, for it to pass upstream. */
export const IDENTITY_HEADERS = {
  name: 'x-podgate-pod-name',
  namespace: 'x-podgate-pod-namespace',
  id: 'x-podgate-pod-id',
  cluster: 'x-podgate-cluster',
} as const;

/**
 * The body's text. (Its size was bounded already.) When Node's parser is about to hold all of
 * it, read from Node's own stream once the parser has pushed it, without the web stream, the
 * listeners and the promises @hono/node-server puts between (measured:
 * docs/adr/0006-decision-hot-path.md). A handler runs inside the parser's callback for the
 * request's head, before the parser goes on to the body in the same packet: one microtask later
 * a small body that arrived with its headers is buffered. A body still arriving, a chunked one
 * (the body limit has read it already), a request not from a socket: Hono reads it.
 */
export function jsonBodyText(c: AppContext): Promise<string> {
  const incoming = c.env?.incoming;
  if (incoming?.read === undefined || incoming.resume === undefined) return c.req.text();
  const length = headerOf(c, 'content-length');
  if (length === undefined || headerOf(c, 'transfer-encoding') !== undefined) return c.req.text();
  return AFTER_THE_PARSER.then(() => bufferedBody(incoming, Number(length)) ?? c.req.text());
}

const AFTER_THE_PARSER = Promise.resolve();

/** The whole body when Node's parser holds it to its `length` and nothing has read it; else undefined. */
function bufferedBody(incoming: NonNullable<NodeBindings['incoming']>, length: number): string | undefined {
  // Node's parser holds the body to its Content-Length: all of it is here when this many bytes are.
  if (incoming.readableDidRead !== false || incoming.readableLength !== length) return undefined;
  const chunk = length === 0 ? null : incoming.read!();
  // Flowing from here: the stream ends (and the request counts as read) when the parser says so.
  incoming.resume!();
  if (chunk === null) return '';
  return typeof chunk === 'string' ? chunk : chunk.toString('utf8');
}

/** The body as JSON; invalid_request when it is empty or not JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new ApiError('invalid_request', 'the body is empty: expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError('invalid_request', `the body is not JSON: ${(error as Error).message}`);
  }
}

/**
 * A header value that is safe to send: printable ASCII as it is, anything else (a value the
 * store holds that Kubernetes would never write) percent-encoded, so no byte of it can end a
 * header or start another.
 */
export function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
