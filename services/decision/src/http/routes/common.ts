// What several routes share: reading a JSON body, and the headers a decision is told in.
import { type AppContext, headerOf } from '../context.js';
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

/** The body as JSON; invalid_request when it is empty or not JSON. (Its size was bounded already.) */
export async function readJsonBody(c: AppContext): Promise<unknown> {
  const text = (await parsedBody(c)) ?? (await c.req.text());
  if (text.trim() === '') throw new ApiError('invalid_request', 'the body is empty: expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError('invalid_request', `the body is not JSON: ${(error as Error).message}`);
  }
}

/**
 * The body, when Node's parser holds all of it and nothing has read it: read at once from
 * Node's own stream, without the web stream, the listeners and the promises @hono/node-server
 * puts between (measured: docs/adr/0006-decision-hot-path.md). A small body arrives with its
 * headers, and the parser has buffered it by the time this first await returns. A body still
 * arriving, a chunked one (the body limit has read it already), a request not from a socket:
 * undefined, and Hono reads it.
 */
async function parsedBody(c: AppContext): Promise<string | undefined> {
  const incoming = c.env?.incoming;
  if (incoming?.read === undefined || incoming.resume === undefined) return undefined;
  const length = headerOf(c, 'content-length');
  if (length === undefined || headerOf(c, 'transfer-encoding') !== undefined) return undefined;
  await undefined;
  // Node's parser holds the body to its Content-Length: all of it is here when this many bytes are.
  if (incoming.readableDidRead !== false || incoming.readableLength !== Number(length)) return undefined;
  const chunk = Number(length) === 0 ? null : incoming.read();
  // Flowing from here: the stream ends (and the request counts as read) when the parser says so.
  incoming.resume();
  if (chunk === null) return '';
  return typeof chunk === 'string' ? chunk : chunk.toString('utf8');
}

/**
 * A header value that is safe to send: printable ASCII as it is, anything else (a value the
 * store holds that Kubernetes would never write) percent-encoded, so no byte of it can end a
 * header or start another.
 */
export function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
