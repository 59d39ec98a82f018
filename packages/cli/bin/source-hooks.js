// Module resolve hook (node:module register) of the `podgate` bin when it runs the sources:
// adds the `podgate-source` export condition, under which each workspace package exports
// its src/index.ts instead of its compiled dist/index.js.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'podgate-source'] });
}
