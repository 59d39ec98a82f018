/**
 * The default of a switch that must cover every case: a new case the switch forgot is a type
 * error here, and a value from outside the type system (a bug) fails loudly instead of falling
 * through.
 */
export function assertNever(value: never, what: string): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
