// One action of a rule: its envelope (type, config) is checked here, its config by its own module.
import type { Environment } from '@marcbachmann/cel-js';
import type { CompiledAction, Phase } from '../actions/define.js';
import { assertNever } from '../assert-never.js';
import type { Place } from './place.js';
import type { PolicyContext } from './policy.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** undefined: error reported; null: valid but never evaluated (an HTTP-only action). */
export function compileAction(
  action: unknown,
  phase: Phase,
  place: Place,
  env: Environment,
  ctx: PolicyContext,
): CompiledAction | null | undefined {
  if (!isObject(action)) {
    place.error('an action must be a mapping with type and config');
    return undefined;
  }
  for (const key of Object.keys(action)) {
    if (key !== 'type' && key !== 'config') {
      place.child([key]).error(`unknown field '${key}' (an action has type, config)`, { key: true });
      return undefined;
    }
  }
  const type = action.type;
  if (typeof type !== 'string') {
    place.error("missing action 'type'");
    return undefined;
  }
  const module = ctx.actions.get(type);
  if (!module?.phases.includes(phase)) {
    const tcp = phase === 'on_tcp_connect';
    place
      .child(['type'])
      .error(
        module
          ? `action '${type}' is not valid in ${phase}`
          : `unknown action type '${type}'${tcp ? ` (valid in on_tcp_connect: ${ctx.actions.typesIn(phase).join(', ')})` : ''}`,
      );
    return undefined;
  }
  if (module.support === 'refused') {
    place.child(['type']).error(module.reason);
    return undefined;
  }
  const config = action.config ?? {};
  if (!isObject(config)) {
    place.child(['config']).error('config must be a mapping');
    return undefined;
  }
  switch (module.support) {
    case 'checked-only':
      return null;
    case 'evaluated': {
      // A module that skipped the type system (a cast, plain JavaScript) must not drop its rule.
      if (typeof module.compile !== 'function') {
        place.error(`action '${type}' cannot be loaded: its module has no compile step (a bug in Podgate)`);
        return undefined;
      }
      const before = place.errorCount();
      const compiled = module.compile({
        at: place.child(['config']),
        raw: config,
        phase,
        env,
        limits: ctx.limits,
        resolveInternal: ctx.resolveInternal,
      });
      if (compiled === undefined && place.errorCount() === before) {
        place.error(
          `action '${type}' could not be compiled, and its module did not say why (a bug in Podgate)`,
        );
      }
      return compiled;
    }
    default:
      return assertNever(module, 'action module');
  }
}
