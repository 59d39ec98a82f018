// What several routes share: reading a JSON body, and the headers a decision is told in.
import type { AppContext } from '../context.js';
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
  const text = await c.req.text();
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
