// log: append a map (values may use `${}`) to the decision's logs; evaluation goes on.
import { z } from 'zod';
import { CONTINUE, evaluatedAction, PHASES } from './define.js';
import { compileValues, render, scalar, scalarValues } from './values.js';

export const log = evaluatedAction({
  type: 'log',
  phases: PHASES,
  config: z.strictObject({ metadata: z.record(z.string(), scalar).optional() }),
  compile(_config, site) {
    // The walker's own (null-prototype) map: zod drops a `__proto__` key from records silently.
    const pairs = Object.entries((site.raw.metadata as Record<string, unknown> | null | undefined) ?? {});
    if (!scalarValues(pairs, site.at, ['metadata'])) return undefined;
    return compileValues(pairs, site.at, ['metadata'], site.env, site.limits);
  },
  terminates: () => false,
  writesVars: false,
  evaluate(entries, run) {
    // No prototype: a metadata key such as `__proto__` is an ordinary entry.
    const entry: Record<string, unknown> = Object.create(null);
    for (const [key, value] of entries) entry[key] = render(value, run.activation);
    run.logs.push(entry);
    return CONTINUE;
  },
});
