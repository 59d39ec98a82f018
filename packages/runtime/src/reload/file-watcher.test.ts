import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollingFileWatcher, statSignature } from './file-watcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pollingFileWatcher', () => {
  const dirs: string[] = [];
  const tempFile = (content: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'podgate-watch-'));
    dirs.push(dir);
    const file = join(dir, 'podgate.yaml');
    writeFileSync(file, content);
    return file;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reports a file being written in place only once it holds still, and then what it holds', async () => {
    const file = tempFile('rules: [allow, deny]\n');
    const read: string[] = [];
    const stop = pollingFileWatcher(40).watch(file, () => read.push(readFileSync(file, 'utf8')));
    await sleep(100);
    // A slow writer: truncated, then the text a piece every 10 ms for 300 ms, 7 polls' worth.
    // Every poll meanwhile sees a cut-off file; none of them may be reported.
    const final = `rules:\n${'  - a rule of the policy\n'.repeat(30)}  - deny\n`;
    writeFileSync(file, '');
    for (let end = 0; end < final.length; ) {
      await sleep(10);
      end = Math.min(final.length, end + Math.ceil(final.length / 30));
      writeFileSync(file, final.slice(0, end));
    }
    expect(read).toEqual([]);
    await expect.poll(() => read.length, { timeout: 5_000 }).toBe(1);
    await sleep(200);
    stop();
    expect(read).toEqual([final]);
  });

  it('reports a replacement by rename and a removal', async () => {
    const file = tempFile('a: 1\n');
    let changes = 0;
    const stop = pollingFileWatcher(20).watch(file, () => changes++);
    await sleep(60);
    writeFileSync(`${file}.new`, 'a: 2\n');
    renameSync(`${file}.new`, file);
    await expect.poll(() => changes, { timeout: 5_000 }).toBe(1);
    rmSync(file);
    await expect.poll(() => changes, { timeout: 5_000 }).toBe(2);
    stop();
  });

  it('reports nothing after stop, even for a change it was waiting on', async () => {
    const file = tempFile('a: 1\n');
    let changes = 0;
    const stop = pollingFileWatcher(40).watch(file, () => changes++);
    await sleep(60);
    // Rewritten every 10 ms: seen by every poll, never still long enough to be reported.
    for (let i = 0; i < 15; i++) {
      writeFileSync(file, `a: ${'2'.repeat(i + 1)}\n`);
      await sleep(10);
    }
    stop();
    await sleep(200);
    expect(changes).toBe(0);
  });

  it('reads a missing file as fs.watchFile reports one', () => {
    expect(statSignature(undefined)).toBe('0:0:0');
    expect(statSignature({ ino: 0, size: 0, mtimeMs: 0 })).toBe('0:0:0');
    expect(statSignature({ ino: 7, size: 3, mtimeMs: 1.5 })).toBe('7:3:1.5');
  });
});
