// The `conn.k8s.pod.*` view of a lookup, as the policy engine reads it. Structurally the
// policy package's PodVars; this package does not import the policy package.
import { ERR_NOT_FOUND, type LookupResult } from './model.js';

export interface PodVarsView {
  id: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  cluster: string;
  errorCode: string;
  errorMessage: string;
}

export const NOT_FOUND_MESSAGE_PREFIX = 'Failed to retrieve pod identity metadata';

export function podVarsFromLookup(result: LookupResult): PodVarsView {
  if (result.ok) {
    const { identity } = result;
    return {
      id: identity.uid,
      name: identity.name,
      namespace: identity.namespace,
      annotations: { ...identity.annotations },
      cluster: identity.cluster,
      errorCode: identity.errorCode,
      errorMessage: identity.errorMessage,
    };
  }
  return {
    id: '',
    name: '',
    namespace: '',
    annotations: {},
    cluster: '',
    errorCode: ERR_NOT_FOUND,
    errorMessage: `${NOT_FOUND_MESSAGE_PREFIX}: ${result.message}`,
  };
}
