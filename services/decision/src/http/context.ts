// What every route is built from: the app's dependencies, and the per-request values the /v1
// middleware sets (the configuration in force, read once, so a reload in the middle of a
// request changes nothing for it).

import type { IdentityReader } from '@podgate/identity';
import { tryNormalizeIp } from '@podgate/identity';
import type { Clock, Logger, Readiness } from '@podgate/runtime';
import type { Context } from 'hono';
import type { LiveConfig } from '../live-config.js';
import type { DecisionMetrics } from '../metrics.js';
import type { Validator } from '../validate/pool.js';
import type { ErrorResponder } from './errors.js';

export interface DecisionAppDeps {
  /** The configuration in force (a reload swaps it); read once per request. */
  config(): LiveConfig;
  /** Where identities are looked up, one round trip per decision. */
  store: IdentityReader;
  /** The clusters to consult. */
  clusters: readonly string[];
  /** Peers whose X-Forwarded-For / X-Real-IP are believed (forward-auth); null: none. */
  trustedProxies: { contains(ip: string): boolean } | null;
  /** Largest request body read (POST /v1/decisions, /v1/validate). */
  maxBodyBytes: number;
  logger: Logger;
  metrics: DecisionMetrics;
  /** /readyz: configuration loaded and store reachable. */
  readiness(): Readiness;
  /**
   * Where POST /v1/validate loads a text (a worker thread). Default: one of the app's own with
   * the default limits (its idle worker never holds the process open).
   */
  validator?: Validator;
  /** The service is stopping: answers close their connection, so keep-alive clients let go. */
  stopping?: () => boolean;
  /** `conn.ts.start`; default: the system clock. */
  clock?: Clock;
  /** Monotonic milliseconds, for lookup and request times; default performance.now. */
  now?: () => number;
}

/** The Node server's bindings (@hono/node-server): the socket a request came on. */
export interface NodeBindings {
  incoming?: {
    /** The request target as it came, before any URL resolution. */
    url?: string;
    socket?: { remoteAddress?: string; remotePort?: number };
    headers?: Record<string, string | string[] | undefined>;
    /** Node's IncomingMessage, as a stream: what its parser has buffered of the body. */
    readableLength?: number;
    readableDidRead?: boolean;
    read?(): Buffer | string | null;
    resume?(): unknown;
  };
}

export interface AppEnv {
  Bindings: NodeBindings;
  Variables: { live: LiveConfig };
}

export type AppContext = Context<AppEnv>;

export interface RouteContext {
  deps: DecisionAppDeps;
  respond: ErrorResponder;
  clock: Clock;
  now: () => number;
  lookup(ip: string): ReturnType<IdentityReader['lookup']>;
}

/**
 * A request header (`name` in lower case), repeated fields joined with `, ` as Fetch joins them.
 * Read from Node's own parse when the request came over a socket: building the Fetch Headers
 * object validates every header of the request, a cost on the hot path of every decision.
 * (Node keeps only the first of a repeated Authorization, Content-Length or Host, and refuses
 * conflicting Content-Lengths itself.)
 */
export function headerOf(c: AppContext, name: string): string | undefined {
  const node = c.env?.incoming?.headers;
  if (node === undefined) return c.req.header(name);
  const value = node[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Each socket's peer, worked out on its first request: a keep-alive connection asks many times. */
const peers = new WeakMap<object, { readonly ip: string; readonly port: number }>();

/** The TCP peer, canonical (IPv4-mapped IPv6 as IPv4); null when there is no socket. Shared: read only. */
export function peerOf(c: AppContext): { readonly ip: string; readonly port: number } | null {
  const socket = c.env?.incoming?.socket;
  if (socket === undefined) return null;
  const known = peers.get(socket);
  if (known !== undefined) return known;
  const ip = socket.remoteAddress === undefined ? null : tryNormalizeIp(socket.remoteAddress);
  if (ip === null) return null;
  const peer = { ip, port: socket.remotePort ?? 0 };
  peers.set(socket, peer);
  return peer;
}
