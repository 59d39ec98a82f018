// set-vars: set `vars.NAME` for later rules (`${}` renders to a string, whole numbers become CEL
// ints); evaluation goes on.
import { z } from 'zod';
import { CONTINUE, evaluatedAction, PHASES } from './define.js';
import { compileValues, type PathOf, render, scalar, scalarValues } from './values.js';

/**
 * The CEL library reads `vars` as a map only while it has no own `constructor`, and its parser
 * reserves `__proto__` and `prototype`: such a variable could be set but never read.
 */
const RESERVED_VAR_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export const setVars = evaluatedAction({
  type: 'set-vars',
  phases: PHASES,
  config: z.strictObject({ vars: z.array(z.record(z.string(), scalar)) }),
  compile(_config, site) {
    const { at } = site;
    const pairs: Array<[string, unknown]> = [];
    let ok = true;
    // The items as written: zod drops a `__proto__` key from records silently.
    (site.raw.vars as Array<Record<string, unknown>>).forEach((item, i) => {
      const keys = Object.keys(item);
      if (keys.length !== 1) {
        at.child(['vars', i]).error(
          `config.vars[${i}]: each item sets exactly one variable (NAME: value), got ${keys.length}`,
        );
        ok = false;
        return;
      }
      const name = keys[0]!;
      if (RESERVED_VAR_NAMES.has(name)) {
        at.child(['vars', i, name]).error(
          `config.vars[${i}]: '${name}' cannot be a variable name (CEL cannot read it back)`,
          { key: true },
        );
        ok = false;
        return;
      }
      pairs.push([name, item[name]]);
    });
    if (!ok) return undefined;
    const pathOf: PathOf = (name) => [pairs.findIndex(([n]) => n === name), name];
    if (!scalarValues(pairs, at, ['vars'], pathOf)) return undefined;
    return compileValues(pairs, at, ['vars'], site.env, site.limits, pathOf);
  },
  terminates: () => false,
  writesVars: true,
  evaluate(entries, run) {
    const vars = run.activation.vars;
    for (const [key, value] of entries) vars[key] = render(value, run.activation);
    return CONTINUE;
  },
});
