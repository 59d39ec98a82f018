// Which endpoints the proxy serves, and where: every Kubernetes-bound endpoint, on its URL's
// port on all interfaces unless `--bind URL=HOST:PORT` says otherwise; an endpoint of another
// binding only when a --bind names it (it is then served as plain TCP, no TLS). Internal
// endpoints are never listened on: they are where forward-internal goes.
import { type CompiledEndpoint, type PolicyConfig, parseUrl } from '@podgate/policy';
import { formatHostPort } from '@podgate/runtime';
import type { ListenAddress, ListenerPlan } from './listeners.js';

export interface BindOverride {
  /** The endpoint URL as the flag gave it. */
  url: string;
  address: ListenAddress;
}

export const DEFAULT_LISTEN_HOST = '0.0.0.0';

export class BindingError extends Error {
  override readonly name = 'BindingError';
}

export function planListeners(config: PolicyConfig, binds: readonly BindOverride[]): ListenerPlan[] {
  const byKey = new Map<string, ListenAddress>();
  for (const bind of binds) {
    const parsed = parseUrl(bind.url);
    if (!parsed.ok) throw new BindingError(`--bind ${bind.url}: ${parsed.message}`);
    const endpoint = config.endpoints.find((e) => e.url.key === parsed.value.key);
    if (endpoint === undefined) {
      throw new BindingError(`--bind ${bind.url}: no endpoint in the configuration has this url`);
    }
    if (endpoint.binding === 'internal') {
      throw new BindingError(
        `--bind ${bind.url}: ${endpoint.name} is an internal endpoint (a forward-internal target), not one clients connect to`,
      );
    }
    if (byKey.has(parsed.value.key)) throw new BindingError(`--bind ${bind.url}: given twice`);
    byKey.set(parsed.value.key, bind.address);
  }
  const plans: ListenerPlan[] = [];
  for (const endpoint of config.endpoints) {
    const address = byKey.get(endpoint.url.key);
    if (address === undefined && endpoint.binding !== 'kubernetes') continue;
    plans.push({
      key: endpoint.url.key,
      endpoint,
      address: address ?? { host: DEFAULT_LISTEN_HOST, port: endpoint.url.port },
    });
  }
  const seen = new Map<string, CompiledEndpoint>();
  for (const plan of plans) {
    if (plan.address.port === 0) continue;
    const where = formatHostPort(plan.address);
    const other = seen.get(where);
    if (other !== undefined) {
      throw new BindingError(
        `${other.url.href} and ${plan.endpoint.url.href} would both listen on ${where}: give one of them --bind URL=HOST:PORT`,
      );
    }
    seen.set(where, plan.endpoint);
  }
  return plans;
}
