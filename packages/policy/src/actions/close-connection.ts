// close-connection: refuse the connection.
import { z } from 'zod';
import { evaluatedAction, PHASES, type Step } from './define.js';

const REFUSED: Step = Object.freeze({ kind: 'refuse', action: 'close-connection' });

export const closeConnection = evaluatedAction({
  type: 'close-connection',
  phases: PHASES,
  config: z.strictObject({}),
  compile: () => true,
  terminates: () => true,
  writesVars: false,
  evaluate: () => REFUSED,
});
