// One client exchange each, from a pod's loopback address: a TCP connection through the proxy,
// a POST /v1/decisions, a forward-auth request. Each resolves (never rejects) with what the
// client saw and when (the test process's performance.now()), bounded by a timeout.
import http from 'node:http';
import net from 'node:net';
import { TOKEN } from './stack.js';

export interface ProxyExchange {
  ip: string;
  /** The client's port (the proxy's log line names it); 0 when the connect failed. */
  port: number;
  start: number;
  end: number;
  /** The upstream's echo of our bytes came back: the connection was let through. */
  echoed: boolean;
  /** Closed by the other side with nothing echoed. */
  closed: boolean;
  timedOut: boolean;
  error?: string;
}

/** Connects from `ip`, sends a line, waits for its echo (then ends) or for the close. */
export function proxyExchange(
  port: number,
  ip: string,
  payload: string,
  timeoutMs: number,
): Promise<ProxyExchange> {
  return new Promise((resolve) => {
    const start = performance.now();
    const result: ProxyExchange = {
      ip,
      port: 0,
      start,
      end: 0,
      echoed: false,
      closed: false,
      timedOut: false,
    };
    let received = '';
    let done = false;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: ip });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      result.end = performance.now();
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      finish();
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      result.port = socket.localPort ?? 0;
      socket.write(payload);
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.length >= payload.length) {
        result.echoed = received === payload;
        if (!result.echoed) result.error = `echo differs: ${JSON.stringify(received.slice(0, 80))}`;
        finish();
      }
    });
    socket.on('error', (err) => {
      result.error = err.message;
    });
    socket.on('close', () => {
      result.closed = true;
      finish();
    });
  });
}

export interface HttpExchange {
  start: number;
  end: number;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  error?: string;
}

function request(options: http.RequestOptions & { body?: string }, timeoutMs: number): Promise<HttpExchange> {
  return new Promise((resolve) => {
    const start = performance.now();
    let done = false;
    const finish = (r: Omit<HttpExchange, 'start' | 'end'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ start, end: performance.now(), ...r });
    };
    const req = http.request({ ...options, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 65_536) body += c;
      });
      res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', (err) => finish({ status: 0, headers: {}, body, error: err.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, headers: {}, body: '', error: 'timeout' });
    }, timeoutMs);
    req.on('error', (err) => finish({ status: 0, headers: {}, body: '', error: err.message }));
    req.end(options.body);
  });
}

/** POST /v1/decisions for `clientIp` at `endpoint` (from 127.0.0.1: the body names the client). */
export function postDecision(port: number, endpoint: string, clientIp: string, timeoutMs: number) {
  return request(
    {
      host: '127.0.0.1',
      port,
      path: '/v1/decisions',
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ endpoint, client_ip: clientIp }),
    },
    timeoutMs,
  );
}

/** GET /v1/forward-auth from `ip` (the TCP peer is the client). */
export function forwardAuth(port: number, endpoint: string, ip: string, timeoutMs: number) {
  return request(
    {
      host: '127.0.0.1',
      port,
      localAddress: ip,
      path: `/v1/forward-auth?endpoint=${encodeURIComponent(endpoint)}`,
      headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
    },
    timeoutMs,
  );
}

/** GET /v1/identities/IP: the identity the policies would see for `ip` now. */
export function identityOf(port: number, ip: string, timeoutMs: number) {
  return request(
    {
      host: '127.0.0.1',
      port,
      path: `/v1/identities/${ip}`,
      headers: { authorization: `Bearer ${TOKEN}`, connection: 'close' },
    },
    timeoutMs,
  );
}
