// Every action Podgate knows, in one table. Adding an action is one module in this folder and
// one line here; the loader and the evaluator ask this table and know no action by name.
import { closeConnection } from './close-connection.js';
import { type ActionModule, PHASES, type Phase } from './define.js';
import { deny } from './deny.js';
import { forwardInternal } from './forward-internal.js';
import { httpOnlyActions } from './http-only.js';
import { log } from './log.js';
import { restrictIps } from './restrict-ips.js';
import { setVars } from './set-vars.js';
import { terminateTls } from './terminate-tls.js';

export interface ActionTable {
  get(type: string): ActionModule | undefined;
  /** The types valid in a phase, sorted (for "valid in on_tcp_connect: ..."). */
  typesIn(phase: Phase): readonly string[];
}

/** A table of modules; two modules of one type are a bug, refused when the table is built. */
export function actionTable(modules: readonly ActionModule[]): ActionTable {
  // A Map: an action type is data, and `constructor` must not find Object's.
  const byType = new Map<string, ActionModule>();
  for (const module of modules) {
    if (byType.has(module.type)) throw new Error(`two action modules of type '${module.type}'`);
    byType.set(module.type, module);
  }
  const byPhase = new Map<Phase, readonly string[]>(
    PHASES.map((phase) => [
      phase,
      Object.freeze(
        modules
          .filter((m) => m.phases.includes(phase))
          .map((m) => m.type)
          .sort(),
      ),
    ]),
  );
  return Object.freeze({
    get: (type: string) => byType.get(type),
    typesIn: (phase: Phase) => byPhase.get(phase) ?? [],
  });
}

export const ACTIONS: ActionTable = actionTable([
  closeConnection,
  deny,
  forwardInternal,
  log,
  restrictIps,
  setVars,
  terminateTls,
  ...httpOnlyActions,
]);
