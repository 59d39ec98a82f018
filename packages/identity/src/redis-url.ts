// REDIS_URL forms accepted by Podgate:
//   redis://[user:password@]host[:port][/db]        one server (rediss:// for TLS)
//   redis+cluster://[user:password@]h1:p1,h2:p2     Redis Cluster seeds (rediss+cluster:// for TLS)
//   redis://h1:p1,h2:p2                              several hosts also mean Redis Cluster
// IPv6 hosts go in brackets: redis://[::1]:6380. Credentials are percent-decoded.
import { IdentityError } from './errors.js';

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface ParsedRedisUrl {
  mode: 'single' | 'cluster';
  nodes: RedisEndpoint[];
  tls: boolean;
  username?: string;
  password?: string;
  /** Single mode only. */
  db?: number;
}

const URL_SHAPE = /^(rediss?)(\+cluster)?:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:[?#].*)?$/;
const DEFAULT_PORT = 6379;

export function parseRedisUrl(url: string): ParsedRedisUrl {
  const match = URL_SHAPE.exec(url);
  const bad = (why: string): never => {
    // Never echo the URL: it may carry a password.
    throw new IdentityError('invalid_store_options', `invalid Redis URL: ${why}`);
  };
  if (match === null) return bad('expected redis://, rediss://, redis+cluster:// or rediss+cluster://');
  const [, scheme, clusterSuffix, userinfo, hostList, path] = match;
  const nodes = (hostList ?? '').split(',').map((h) => parseHostPort(h.trim(), bad));
  if (nodes.length === 0 || nodes.some((n) => n.host === '')) bad('no host');
  const parsed: ParsedRedisUrl = {
    mode: clusterSuffix !== undefined || nodes.length > 1 ? 'cluster' : 'single',
    nodes,
    tls: scheme === 'rediss',
  };
  if (userinfo !== undefined && userinfo !== '') {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? '' : decode(userinfo.slice(0, colon), bad);
    const password = decode(colon < 0 ? userinfo : userinfo.slice(colon + 1), bad);
    if (user !== '') parsed.username = user;
    if (password !== '') parsed.password = password;
  }
  if (path !== undefined && path !== '') {
    if (!/^\d+$/.test(path)) bad('the path must be a database number');
    if (parsed.mode === 'cluster') bad('Redis Cluster has no database number');
    parsed.db = Number(path);
  }
  return parsed;
}

function parseHostPort(text: string, bad: (why: string) => never): RedisEndpoint {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(text);
  if (m === null) return bad('a host must be host[:port] or [ipv6][:port]');
  const port = m[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (port < 1 || port > 65535) bad('port out of range');
  return { host: m[1] ?? m[2] ?? '', port };
}

function decode(text: string, bad: (why: string) => never): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return bad('bad percent-encoding in the credentials');
  }
}
