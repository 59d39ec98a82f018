// The messages between the validation pool (pool.ts) and its worker (worker.ts).
import type { ValidateOutcome } from './outcome.js';

export interface ToWorker {
  id: number;
  text: string;
}

export type FromWorker =
  | { ready: true }
  | { id: number; outcome: ValidateOutcome }
  | { id: number; error: string };
