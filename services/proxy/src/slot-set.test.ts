// SlotSet against a reference Set: any sequence of adds and removes (removes of entries already
// removed included) leaves the same members, and size and values agree at every step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Slot, SlotSet } from './slot-set.js';

describe('SlotSet', () => {
  it('holds what a Set would, for any sequence of adds and removes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(50)), { maxLength: 300 }), (ops) => {
        const set = new SlotSet<number>();
        const model = new Set<number>();
        const slots: Slot<number>[] = [];
        let next = 0;
        for (const [add, pick] of ops) {
          if (add || slots.length === 0) {
            const value = next++;
            slots.push(set.add(value));
            model.add(value);
          } else {
            const slot = slots[pick % slots.length]!;
            expect(set.remove(slot)).toBe(model.delete(slot.value));
            expect(slot.index).toBe(-1);
          }
          expect(set.size).toBe(model.size);
          expect(new Set(set.values())).toEqual(model);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lets go of a removed entry: its slot no longer holds it', () => {
    const set = new SlotSet<{ n: number }>();
    const a = set.add({ n: 1 });
    const b = set.add({ n: 2 });
    set.remove(a);
    expect(set.values()).toEqual([{ n: 2 }]);
    expect(b.index).toBe(0);
    expect(set.remove(a)).toBe(false);
  });
});
