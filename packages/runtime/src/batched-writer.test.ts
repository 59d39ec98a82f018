import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BatchWrite, batchedWriter } from './batched-writer.js';

/** A write that completes only when the test says so, recording each batch. */
function slowWrite() {
  const batches: string[] = [];
  const pending: Array<() => void> = [];
  const write: BatchWrite = (batch, done) => {
    batches.push(batch.toString('utf8'));
    pending.push(done);
  };
  return { batches, write, finish: () => pending.shift()?.() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('batchedWriter', () => {
  it('writes a batch when it reaches its size, in order, one write at a time', () => {
    const out = slowWrite();
    const writer = batchedWriter(out.write, 10, 1000);
    writer.write('aaaa\n');
    expect(out.batches).toEqual([]);
    writer.write('bbbbb\n');
    expect(out.batches).toEqual(['aaaa\nbbbbb\n']);
    writer.write('cccccccccccc\n');
    expect(out.batches).toHaveLength(1); // the first write is still in flight
    out.finish();
    expect(out.batches).toEqual(['aaaa\nbbbbb\n', 'cccccccccccc\n']);
  });

  it('does not write a small remainder just because the previous write finished', () => {
    const out = slowWrite();
    const writer = batchedWriter(out.write, 10, 1000);
    writer.write('0123456789\n');
    writer.write('x\n');
    out.finish();
    expect(out.batches).toEqual(['0123456789\n']);
  });

  it('writes what is left every interval, and on flush (which calls back once written)', () => {
    vi.useFakeTimers();
    const out = slowWrite();
    const writer = batchedWriter(out.write, 1000, 100);
    writer.write('a\n');
    vi.advanceTimersByTime(100);
    expect(out.batches).toEqual(['a\n']);
    out.finish();
    writer.write('b\n');
    const flushed = vi.fn();
    writer.flush(flushed);
    expect(out.batches).toEqual(['a\n', 'b\n']);
    expect(flushed).not.toHaveBeenCalled();
    out.finish();
    expect(flushed).toHaveBeenCalledOnce();
  });

  it('a flush while a write is in flight also writes what arrived meanwhile', () => {
    const out = slowWrite();
    const writer = batchedWriter(out.write, 5, 1000);
    writer.write('12345\n');
    writer.write('z\n');
    const flushed = vi.fn();
    writer.flush(flushed);
    out.finish();
    expect(out.batches).toEqual(['12345\n', 'z\n']);
    out.finish();
    expect(flushed).toHaveBeenCalledOnce();
  });

  it('writes every line whole, in order: non-ASCII text, and a line longer than a batch', () => {
    const out = slowWrite();
    const writer = batchedWriter(out.write, 64, 1000);
    const lines = [
      'héllo wörld\n',
      `${'🙂'.repeat(40_000)}\n`,
      'ünïcode ✓\n',
      `${'x'.repeat(70_000)}\n`,
      'end\n',
    ];
    for (const line of lines) writer.write(line);
    writer.flush();
    for (let i = 0; i < lines.length; i++) out.finish();
    expect(out.batches.length).toBeGreaterThan(1);
    expect(out.batches.join('')).toBe(lines.join(''));
  });
});
