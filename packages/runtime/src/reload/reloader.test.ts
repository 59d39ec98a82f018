import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@podgate/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../metrics.js';
import { manualSignals } from '../shutdown/signals.js';
import { manualFileWatcher, pollingFileWatcher } from './file-watcher.js';
import { type ConfigReloader, createConfigReloader, type LoadOutcome } from './reloader.js';

const reloaders: ConfigReloader<unknown>[] = [];
afterEach(() => {
  for (const r of reloaders.splice(0)) r.stop();
});

/** A load() that answers from a script, one outcome per call. */
function scripted(...outcomes: Array<LoadOutcome<string> | Promise<LoadOutcome<string>>>) {
  let calls = 0;
  return {
    load: async () => {
      const outcome = outcomes[Math.min(calls, outcomes.length - 1)]!;
      calls++;
      return outcome;
    },
    calls: () => calls,
  };
}

describe('createConfigReloader', () => {
  it('swaps in a good configuration and keeps the last good one when a reload is bad, saying why', async () => {
    const { lines, logger } = memoryLogger();
    const registry = createRegistry();
    const refused: string[] = [];
    const script = scripted({ ok: true, value: 'v2' }, { ok: false, reason: 'a.yaml:3:1: unknown action' });
    const reloader = createConfigReloader({
      initial: 'v1',
      load: script.load,
      logger,
      registry,
      onRefused: (reason) => refused.push(reason),
    });
    reloaders.push(reloader);
    expect(reloader.current()).toBe('v1');
    expect(await reloader.reload()).toEqual({ applied: true });
    expect(reloader.current()).toBe('v2');
    expect(await reloader.reload('test')).toEqual({ applied: false, reason: 'a.yaml:3:1: unknown action' });
    expect(reloader.current()).toBe('v2');
    expect(refused).toEqual(['a.yaml:3:1: unknown action']);
    expect(lines().at(-1)).toMatchObject({
      level: 40,
      trigger: 'test',
      reason: 'a.yaml:3:1: unknown action',
      msg: 'configuration reload refused; keeping the last good configuration',
    });
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^podgate_config_reloads_total\{result="applied"\} 1$/m);
    expect(metrics).toMatch(/^podgate_config_reloads_total\{result="refused"\} 1$/m);
    expect(metrics).toMatch(/^podgate_config_last_reload_successful 0$/m);
  });

  it('a load that throws is a refusal', async () => {
    const reloader = createConfigReloader({
      initial: 1,
      load: () => Promise.reject(new Error('disk gone')),
    });
    reloaders.push(reloader);
    expect(await reloader.reload()).toEqual({ applied: false, reason: 'disk gone' });
    expect(reloader.current()).toBe(1);
  });

  it('reloads on SIGHUP and on a change of its files, until stopped', async () => {
    const signals = manualSignals();
    const files = manualFileWatcher();
    const applied: string[] = [];
    let n = 0;
    const reloader = createConfigReloader({
      initial: 'v0',
      load: async () => ({ ok: true, value: `v${++n}` }),
      files: ['/etc/podgate/a.yaml'],
      fileWatcher: files,
      signals,
      onApplied: (value) => applied.push(value),
    });
    reloaders.push(reloader);
    signals.raise('SIGHUP');
    await expect.poll(() => applied).toEqual(['v1']);
    files.touch('/etc/podgate/a.yaml');
    await expect.poll(() => applied).toEqual(['v1', 'v2']);
    reloader.stop();
    expect(files.watched()).toEqual([]);
    expect(signals.listenerCount('SIGHUP')).toBe(0);
  });

  it('runs one reload at a time; triggers during one are served by a single next one', async () => {
    // (Triggers that arrive before a queued reload starts are served by it too.)
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    let running = 0;
    let overlapped = false;
    const reloader = createConfigReloader({
      initial: 0,
      load: async () => {
        running++;
        overlapped ||= running > 1;
        calls++;
        if (calls === 1) await gate;
        running--;
        return { ok: true, value: calls };
      },
    });
    reloaders.push(reloader);
    const first = reloader.reload();
    await expect.poll(() => calls).toBe(1);
    const second = reloader.reload();
    const third = reloader.reload();
    expect(third).toBe(second);
    release();
    await Promise.all([first, second, third]);
    expect(calls).toBe(2);
    expect(overlapped).toBe(false);
    expect(reloader.current()).toBe(2);
  });

  it('notices a real file being rewritten (stat polling)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podgate-reload-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'a: 1\n');
      const changes: string[] = [];
      const stop = pollingFileWatcher(20).watch(file, () => changes.push('change'));
      await new Promise((r) => setTimeout(r, 60));
      writeFileSync(file, 'a: 22\n');
      await expect.poll(() => changes.length, { timeout: 5_000 }).toBeGreaterThan(0);
      stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createConfigReloader stop()', () => {
  it('waits for a reload in flight, applies nothing after it, and serves no later trigger', async () => {
    let release: (v: LoadOutcome<string>) => void = () => {};
    const pending = new Promise<LoadOutcome<string>>((resolve) => {
      release = resolve;
    });
    const applied: string[] = [];
    const script = scripted(pending, { ok: true, value: 'v3' });
    const reloader = createConfigReloader({
      initial: 'v1',
      load: script.load,
      onApplied: (value) => applied.push(value),
    });
    const inFlight = reloader.reload('test');
    await new Promise((r) => setImmediate(r));
    let stopped = false;
    const stopping = reloader.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release({ ok: true, value: 'v2' });
    await stopping;
    expect(await inFlight).toEqual({ applied: false, reason: 'the service is stopping' });
    expect(await reloader.reload('late')).toEqual({ applied: false, reason: 'the service is stopping' });
    expect(applied).toEqual([]);
    expect(reloader.current()).toBe('v1');
    expect(script.calls()).toBe(1);
  });
});
