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
  return {
    batches,
    write,
    finish: () => pending.shift()?.(),
    /** Completes every write, and those they start, until none is in flight. */
    finishAll: () => {
      while (pending.length > 0) pending.shift()!();
    },
  };
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

  it('bounds what waits for a stdout that is not read: later lines are dropped, counted and told first once it reads again', () => {
    const out = slowWrite();
    const note = (n: number) => `dropped ${n}\n`;
    const writer = batchedWriter(out.write, 100, 1000, { maxQueuedBytes: 400, dropNote: note });
    const line = (i: number) => `${String(i).padStart(9, '0')}\n`; // 10 bytes
    // The first batch goes out and never comes back (stdout stalled); the rest wait, up to 400 bytes.
    for (let i = 0; i < 200; i++) writer.write(line(i));
    expect(out.batches).toHaveLength(1);
    // Stdout reads again: every batch that waited is written, then lines flow, the note first.
    out.finishAll();
    for (let i = 200; i < 210; i++) writer.write(line(i));
    writer.flush();
    out.finishAll();
    const text = out.batches.join('');
    const lines = text.split('\n').filter(Boolean);
    const kept = lines.filter((l) => !l.startsWith('dropped')).map(Number);
    const notes = lines.filter((l) => l.startsWith('dropped'));
    // What was kept is in order, whole, and is the lines before the bound and after the stall.
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(kept.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => 200 + i));
    // Held while stalled: the batch in flight, at most 400 bytes waiting, and the one filling.
    expect(kept.length - 10).toBeLessThanOrEqual(10 + 40 + 10);
    expect(notes).toEqual([`dropped ${200 - (kept.length - 10)}`]);
    // The note comes right before the first line after the stall.
    expect(lines[lines.indexOf(notes[0]!) + 1]).toBe('000000200');
  });

  it('tells of dropped lines at a flush even when no line follows', () => {
    const out = slowWrite();
    const writer = batchedWriter(out.write, 10, 1000, {
      maxQueuedBytes: 20,
      dropNote: (n) => `dropped ${n}\n`,
    });
    for (let i = 0; i < 20; i++) writer.write('012345678\n');
    out.finishAll();
    writer.flush();
    out.finishAll();
    expect(
      out.batches
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('dropped')),
    ).toHaveLength(1);
  });
});
