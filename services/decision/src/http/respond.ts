// Answers built with plain header objects. Every API answer is never to be cached by anything
// between (a verdict is per request) nor sniffed; and @hono/node-server writes a response whose
// headers are a plain object straight to the socket, where a Headers object (what Hono's
// c.header() builds) costs a validation per header on the hot path of every decision.
const API_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

export function jsonResponse(status: number, body: unknown, headers?: Record<string, string>): Response {
  return jsonTextResponse(status, JSON.stringify(body), headers);
}

/** A JSON answer whose text is built already (a decision's, which its log line reuses). */
export function jsonTextResponse(status: number, json: string, headers?: Record<string, string>): Response {
  return new Response(json, {
    status,
    headers: { 'content-type': 'application/json', ...API_HEADERS, ...headers },
  });
}

/** A bodiless answer (forward-auth's allow); its length said, or Node would send it chunked. */
export function emptyResponse(status: number, headers?: Record<string, string>): Response {
  return new Response(null, { status, headers: { 'content-length': '0', ...API_HEADERS, ...headers } });
}
