// Listeners by key, for the manual (test and in-process) signal and file-change sources.
export class Listeners<K, A extends unknown[]> {
  private readonly byKey = new Map<K, Set<(...args: A) => void>>();

  add(key: K, listener: (...args: A) => void): () => void {
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(listener);
    return () => this.remove(key, listener);
  }

  remove(key: K, listener: (...args: A) => void): void {
    this.byKey.get(key)?.delete(listener);
  }

  /** Calls the listeners of `key` present now (one that unsubscribes others does not skip them). */
  emit(key: K, ...args: A): void {
    for (const listener of [...(this.byKey.get(key) ?? [])]) listener(...args);
  }

  count(key: K): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  keys(): K[] {
    return [...this.byKey].filter(([, set]) => set.size > 0).map(([key]) => key);
  }
}
