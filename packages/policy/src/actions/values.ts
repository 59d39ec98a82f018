// Maps of values that log and set-vars share: static scalars, or strings with `${}` rendered per
// connection.
import type { Environment } from '@marcbachmann/cel-js';
import { z } from 'zod';
import type { Activation } from '../cel/activation.js';
import { compileTemplate, hasInterpolation, type Template } from '../load/interpolate.js';
import type { Place } from '../load/place.js';
import type { PathSegment } from '../load/yaml-source.js';
import type { ExpressionLimits } from '../types.js';

export const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A static value, or a string with `${}` to render per connection. */
export type Value = { template: Template } | { value: unknown };

export function render(value: Value, activation: Activation): unknown {
  return 'template' in value ? value.template.render(activation) : value.value;
}

/** Where an entry's value sits below `config.PREFIX`. */
export type PathOf = (name: string) => PathSegment[];

const byName: PathOf = (name) => [name];

/**
 * zod skips a `__proto__` key of a record without checking its value; check every value here
 * so that key behaves like any other.
 */
export function scalarValues(
  pairs: Array<[string, unknown]>,
  place: Place,
  prefix: PathSegment[],
  pathOf: PathOf = byName,
): boolean {
  let ok = true;
  for (const [name, raw] of pairs) {
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') continue;
    place
      .child([...prefix, ...pathOf(name)])
      .error(`config.${prefix.join('.')}.${name}: must be a string, number or boolean`);
    ok = false;
  }
  return ok;
}

export function compileValues(
  pairs: Array<[string, unknown]>,
  place: Place,
  prefix: PathSegment[],
  env: Environment,
  limits: ExpressionLimits,
  pathOf: PathOf = byName,
): Array<[string, Value]> | undefined {
  const out: Array<[string, Value]> = [];
  let ok = true;
  for (const [name, raw] of pairs) {
    if (typeof raw === 'string' && hasInterpolation(raw)) {
      const compiled = compileTemplate(env, raw, limits);
      if (!compiled.ok) {
        const at = place.child([...prefix, ...pathOf(name)]);
        at.error(`config.${prefix.join('.')}.${name}: ${compiled.message}`, { textOffset: compiled.offset });
        ok = false;
        continue;
      }
      out.push([name, { template: compiled.template }]);
    } else {
      // CEL integers are BigInt; YAML gives whole numbers as JS numbers.
      out.push([name, { value: typeof raw === 'number' && Number.isInteger(raw) ? BigInt(raw) : raw }]);
    }
  }
  return ok ? out : undefined;
}
