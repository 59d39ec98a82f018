import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  it('keeps order across growth and wrap-around', () => {
    const fifo = new Fifo<number>();
    const model: number[] = [];
    let next = 0;
    // Interleaved pushes and shifts so the head wraps while the buffer grows past 64.
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 7; k++) {
        fifo.push(next);
        model.push(next++);
      }
      for (let k = 0; k < 4; k++) expect(fifo.shift()).toBe(model.shift());
      expect(fifo.length).toBe(model.length);
      expect(fifo.at(0)).toBe(model[0]);
      expect(fifo.at(model.length - 1)).toBe(model[model.length - 1]);
      expect(fifo.at(model.length)).toBeUndefined();
    }
    expect(fifo.drain()).toEqual(model);
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });
});
