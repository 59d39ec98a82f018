// One CEL environment per phase family, built once per process. Expressions are parsed and
// type-checked against it at load; evaluation reuses the checked trees.
import { Environment } from '@marcbachmann/cel-js';
import { type Cidr, cidrContains, isPrivateIp, parseCidr, parseIp } from '../net/ip.js';
import { CEL_TYPES } from './activation.js';

const CIDR_CACHE_MAX = 4096;
const cidrCache = new Map<string, Cidr | null>();

/** Parsed CIDR, cached: policies repeat the same literal ranges on every connection. */
function cachedCidr(text: string): Cidr | null {
  let cidr = cidrCache.get(text);
  if (cidr === undefined) {
    // Attacker-influenced strings can reach here; a full cache is dropped, not grown.
    if (cidrCache.size >= CIDR_CACHE_MAX) cidrCache.clear();
    cidr = parseCidr(text) ?? null;
    cidrCache.set(text, cidr);
  }
  return cidr;
}

export function inCidrRange(ip: string, cidr: string): boolean {
  const range = cachedCidr(cidr);
  if (!range) return false;
  const addr = parseIp(ip);
  return addr !== undefined && cidrContains(range, addr);
}

export function inCidrRanges(ip: string, cidrs: readonly unknown[]): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  for (const c of cidrs) {
    if (typeof c !== 'string') continue;
    const range = cachedCidr(c);
    if (range && cidrContains(range, addr)) return true;
  }
  return false;
}

// The checker's own structural limits are set generously; Podgate measures its (configurable)
// limits itself, see compile.ts.
const LIBRARY_LIMITS = {
  maxAstNodes: 100_000,
  maxDepth: 250,
  maxListElements: 100_000,
  maxMapEntries: 10_000,
};

function createBase(): Environment {
  const env = new Environment({ limits: LIBRARY_LIMITS });
  for (const [name, def] of Object.entries(CEL_TYPES)) {
    env.registerType(name, { ctor: def.ctor, fields: { ...def.fields } });
  }
  env
    .registerVariable('conn', 'podgate.Conn')
    .registerVariable('endpoint', 'podgate.Endpoint')
    .registerVariable('vars', 'map<string, dyn>')
    .registerVariable('actions', 'map<string, dyn>')
    .registerFunction('inCidrRange(string, string): bool', inCidrRange)
    .registerFunction('inCidrRanges(string, list<string>): bool', inCidrRanges)
    .registerFunction('string.isPrivateIp(): bool', (ip: string) => {
      const addr = parseIp(ip);
      return addr !== undefined && isPrivateIp(addr);
    });
  return env;
}

const base = createBase();
/** `on_tcp_connect`. */
export const tcpEnvironment: Environment = base.clone();
/** `on_http_request` / `on_http_response`: validated only, so `req` and `res` are open maps. */
export const httpEnvironment: Environment = base
  .clone()
  .registerVariable('req', 'map<string, dyn>')
  .registerVariable('res', 'map<string, dyn>');

export const DECLARED_VARIABLES = ['conn', 'endpoint', 'vars', 'actions'];
