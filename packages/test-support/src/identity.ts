import type { IdentityReader, LookupResult } from '@podgate/identity';

/** `namespace/name` of the pod owning `ip` in `cluster`, or the not-found reason prefixed with `!`. */
export async function owner(store: IdentityReader, ip: string, cluster: string): Promise<string> {
  const result: LookupResult = await store.lookup(ip, [cluster]);
  return result.ok ? `${result.identity.namespace}/${result.identity.name}` : `!${result.reason}`;
}
