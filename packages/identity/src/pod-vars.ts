// The `conn.k8s.pod.*` view of a lookup, as the policy engine reads it. Structurally the
// policy package's PodVars; this package does not import the policy package.
import { ERR_NOT_FOUND, type LookupResult, type PodIdentity } from './model.js';

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

/** One frozen view per shared (frozen) identity: the policy's activation and JSON hang off it. */
const views = new WeakMap<PodIdentity, PodVarsView>();

export function podVarsFromLookup(result: LookupResult): PodVarsView {
  if (result.ok) {
    const { identity } = result;
    const known = views.get(identity);
    if (known !== undefined) return known;
    const shared = Object.isFrozen(identity) && Object.isFrozen(identity.annotations);
    const view: PodVarsView = {
      id: identity.uid,
      name: identity.name,
      namespace: identity.namespace,
      // A view of an identity someone may still change gets its own copy of the annotations.
      annotations: shared ? identity.annotations : { ...identity.annotations },
      cluster: identity.cluster,
      errorCode: identity.errorCode,
      errorMessage: identity.errorMessage,
    };
    if (shared) views.set(identity, Object.freeze(view));
    return view;
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
