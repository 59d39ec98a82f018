// One error type for the identity package. Its codes are the `identity` and `store` areas
// of the project's error table (@podgate/errors), where each has its meaning:
// invalid_ip, invalid_pod, invalid_pods_file, invalid_cluster_name, invalid_store_options,
// store_unavailable, fenced.
import { type ErrorCodeIn, PodgateError } from '@podgate/errors';

export type IdentityErrorCode = ErrorCodeIn<'identity' | 'store'>;

export class IdentityError extends PodgateError<IdentityErrorCode> {
  constructor(code: IdentityErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'IdentityError';
  }
}
