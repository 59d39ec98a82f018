// Cluster names scope store keys (`{cluster}` hash tags, `cluster/uid` hash fields), so
// they may not contain braces, slashes or commas.
import { IdentityError } from './errors.js';

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function assertClusterName(name: string): void {
  if (typeof name !== 'string' || !CLUSTER_NAME.test(name)) {
    throw new IdentityError(
      'invalid_cluster_name',
      `invalid cluster name ${JSON.stringify(name)}: 1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
    );
  }
}
