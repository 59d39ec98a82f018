// The validator an app gets when it is given none (tests, embedding): the default limits,
// created on first use and shared by such apps, since its worker starts only when a text
// arrives and an idle one never holds the process open.
import {
  createValidator,
  DEFAULT_VALIDATE_MEMORY_BYTES,
  DEFAULT_VALIDATE_TIMEOUT_MS,
  type Validator,
} from './pool.js';

let shared: Validator | undefined;

export function defaultValidator(): Validator {
  shared ??= createValidator({
    timeoutMs: DEFAULT_VALIDATE_TIMEOUT_MS,
    maxHeapBytes: DEFAULT_VALIDATE_MEMORY_BYTES,
  });
  return shared;
}
