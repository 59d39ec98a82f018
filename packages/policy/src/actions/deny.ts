// deny: refuse the connection. In HTTP phases it takes ngrok's status_code (checked, not used).
import { z } from 'zod';
import { evaluatedAction, PHASES, type Step } from './define.js';

const REFUSED: Step = Object.freeze({ kind: 'refuse', action: 'deny' });

export const deny = evaluatedAction({
  type: 'deny',
  phases: PHASES,
  config: z.strictObject({}),
  httpConfig: z.strictObject({ status_code: z.number().int().min(100).max(599).optional() }),
  compile: () => true,
  terminates: () => true,
  writesVars: false,
  evaluate: () => REFUSED,
});
