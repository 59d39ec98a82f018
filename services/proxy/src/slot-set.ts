// A set of the proxy's per-connection entries (open connections, their aborts) that lets go of
// a removed entry at once. An array of slots: add appends, remove moves the last entry into the
// freed slot. Not a Set: entries removed from a long-lived Set that every connection adds to and
// deletes from stayed reachable for young-generation collections until the next full one (our
// reading: its discarded tables, promoted, still point at them), so connection state was copied
// and promoted, and scavenges became pauses of several ms (timer-wheel.ts has the measurements).

export interface Slot<T> {
  readonly value: T;
  /** Its index in the set; -1 once removed. */
  index: number;
}

export class SlotSet<T> {
  private readonly slots: Slot<T>[] = [];

  get size(): number {
    return this.slots.length;
  }

  add(value: T): Slot<T> {
    const slot: Slot<T> = { value, index: this.slots.length };
    this.slots.push(slot);
    return slot;
  }

  /** Removes `slot`; false when it was removed already. */
  remove(slot: Slot<T>): boolean {
    const index = slot.index;
    if (index < 0 || this.slots[index] !== slot) return false;
    slot.index = -1;
    const last = this.slots.pop()!;
    if (last !== slot) {
      this.slots[index] = last;
      last.index = index;
    }
    return true;
  }

  /** The values now, in no particular order (a copy: callbacks may add or remove). */
  values(): T[] {
    return this.slots.map((s) => s.value);
  }
}
