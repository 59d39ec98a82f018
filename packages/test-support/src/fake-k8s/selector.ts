import type { Selector } from './types.js';

/** `a=b,c!=d,e,!f` (equality-based selectors; enough for the watcher's tests). */
export function parseSelector(text: string | null): Selector {
  if (!text) return () => true;
  const terms = text.split(',').map((t) => t.trim());
  return (labels) =>
    terms.every((term) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return labels?.[ne[1]!] !== ne[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return labels?.[eq[1]!] === eq[2];
      if (term.startsWith('!')) return labels?.[term.slice(1)] === undefined;
      return labels?.[term] !== undefined;
    });
}
