import { describe, expect, it } from 'vitest';
import { Listeners } from './listeners.js';

describe('Listeners', () => {
  it('calls the listeners of a key with the arguments, until removed', () => {
    const listeners = new Listeners<string, [number]>();
    const seen: number[] = [];
    const off = listeners.add('a', (n) => seen.push(n));
    listeners.add('b', (n) => seen.push(n * 10));
    listeners.emit('a', 1);
    expect(listeners.keys()).toEqual(['a', 'b']);
    off();
    listeners.emit('a', 2);
    listeners.emit('b', 3);
    expect(seen).toEqual([1, 30]);
    expect(listeners.count('a')).toBe(0);
    expect(listeners.keys()).toEqual(['b']);
  });

  it('a listener that removes another during emit does not skip it this time', () => {
    const listeners = new Listeners<string, []>();
    const seen: string[] = [];
    let offSecond = () => {};
    listeners.add('k', () => {
      seen.push('first');
      offSecond();
    });
    offSecond = listeners.add('k', () => seen.push('second'));
    listeners.emit('k');
    listeners.emit('k');
    expect(seen).toEqual(['first', 'second', 'first']);
  });
});
