// The watcher's typed errors: a closed set of codes, each with the cause attached.
import { IdentityError } from '@podgate/identity';

export type WatcherErrorCode =
  | 'CONFIG_INVALID' // flags or environment refused at start
  | 'KUBECONFIG_INVALID' // no usable kubeconfig / in-cluster credentials
  | 'API_UNAUTHORIZED' // 401/403 from the API server
  | 'API_GONE' // 410: the resourceVersion is older than the server's history
  | 'API_HTTP' // any other non-success status
  | 'API_NETWORK' // connection refused, reset, dropped mid-stream
  | 'API_PROTOCOL' // a body that is not what the API promises
  | 'WATCH_IDLE' // the watch sent nothing for longer than the idle timeout
  | 'PODS_FILE_INVALID'; // the pods file could not be read or parsed

export class WatcherError extends Error {
  override name = 'WatcherError';
  constructor(
    readonly code: WatcherErrorCode,
    message: string,
    options?: { cause?: unknown; statusCode?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = options?.statusCode;
  }
  readonly statusCode: number | undefined;
}

/** The store refused a write because a newer writer fenced the cluster (ADR 0003). */
export function isFenced(error: unknown): boolean {
  return error instanceof IdentityError && error.code === 'fenced';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
