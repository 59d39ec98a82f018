// restrict-ips: refuse a client IP in a deny CIDR, or in none of a non-empty allow list;
// `enforce: false` only logs. Otherwise evaluation goes on.
import { z } from 'zod';
import { type Cidr, cidrContains, parseCidr, parseIp } from '../net/ip.js';
import { CONTINUE, evaluatedAction, PHASES, type Step } from './define.js';

interface Restriction {
  enforce: boolean;
  allow: Cidr[];
  deny: Cidr[];
}

const REFUSED: Step = Object.freeze({ kind: 'refuse', action: 'restrict-ips' });

function refused(restriction: Restriction, clientIp: string): boolean {
  const ip = parseIp(clientIp);
  if (!ip) return true;
  for (const cidr of restriction.deny) if (cidrContains(cidr, ip)) return true;
  if (restriction.allow.length === 0) return false;
  for (const cidr of restriction.allow) if (cidrContains(cidr, ip)) return false;
  return true;
}

export const restrictIps = evaluatedAction({
  type: 'restrict-ips',
  phases: PHASES,
  config: z.strictObject({
    enforce: z.boolean().optional(),
    allow: z.array(z.string()).optional(),
    deny: z.array(z.string()).optional(),
    ip_policies: z.array(z.string()).optional(),
  }),
  compile(cfg, { at }): Restriction | undefined {
    let ok = true;
    if (cfg.ip_policies && cfg.ip_policies.length > 0) {
      at.child(['ip_policies']).error(
        "config.ip_policies: IP policies live in ngrok's cloud and are not supported self-hosted; list the CIDRs in allow/deny",
        { key: true },
      );
      ok = false;
    }
    const parseList = (field: 'allow' | 'deny'): Cidr[] => {
      const out: Cidr[] = [];
      (cfg[field] ?? []).forEach((text, i) => {
        const cidr = parseCidr(text.trim());
        if (!cidr) {
          at.child([field, i]).error(
            `config.${field}[${i}]: bad CIDR '${text}' (expected a.b.c.d/n or an IPv6 prefix such as 2001:db8::/32)`,
          );
          ok = false;
        } else out.push(cidr);
      });
      return out;
    };
    const allow = parseList('allow');
    const deny = parseList('deny');
    if (ok && allow.length === 0 && deny.length === 0) {
      at.error('restrict-ips needs at least one CIDR in allow or deny');
      ok = false;
    }
    return ok ? { enforce: cfg.enforce ?? true, allow, deny } : undefined;
  },
  terminates: () => false,
  writesVars: false,
  evaluate(restriction, run) {
    const clientIp = run.conn.clientIp;
    if (!refused(restriction, clientIp)) return CONTINUE;
    if (restriction.enforce) return REFUSED;
    run.logs.push({ action: 'restrict-ips', enforce: false, refused: clientIp });
    return CONTINUE;
  },
});
