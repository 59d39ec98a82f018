// The watcher service as a unit: configuration in, a handle out; the admin app is served
// on the address the configuration gives, and stop() drains in order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import { memoryLogger, owner, waitFor } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWatcherConfig, type WatcherConfigInput } from './config.js';
import { startWatcherService } from './service.js';

let dir: string;
let podsFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'watcher-service-'));
  podsFile = join(dir, 'pods.yaml');
  writeFileSync(
    podsFile,
    'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n, uid: u1, resourceVersion: "5"}\nstatus: {phase: Running, podIP: 10.4.0.1}\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(input: Partial<WatcherConfigInput> = {}) {
  const parsed = parseWatcherConfig({ cluster: 'svc', podsFile, listen: '127.0.0.1:0', ...input });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.config;
}

describe('startWatcherService', () => {
  it('writes the pods file to the store, serves /readyz once synced, and stops the server with stop()', async () => {
    const store = new MemoryIdentityStore();
    const { logger, lines } = memoryLogger();
    const service = await startWatcherService(config({ heartbeatIntervalMs: '100ms' }), { store, logger });
    const url = `http://127.0.0.1:${service.adminPort}`;
    await waitFor('ready', async () => (await fetch(`${url}/readyz`)).status === 200);
    expect(service.readiness().ready).toBe(true);
    expect(await owner(store, '10.4.0.1', 'svc')).toBe('n/a');
    expect(service.watcher()?.status().podsTracked).toBe(1);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^podgate_watcher_pods_tracked 1$/m);
    await service.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(lines().map((l) => l.msg)).toEqual(
      expect.arrayContaining(['serving /healthz, /readyz, /metrics', 'watcher stopped']),
    );
  });

  it('runs without an admin server when listen is null', async () => {
    const service = await startWatcherService(
      { ...config(), listen: null },
      { store: new MemoryIdentityStore(), logger: memoryLogger().logger },
    );
    expect(service.adminPort).toBeNull();
    await service.watcher()?.ready;
    await service.stop();
  });

  it('refuses an address it cannot listen on, and leaves nothing running', async () => {
    const first = await startWatcherService(config(), {
      store: new MemoryIdentityStore(),
      logger: memoryLogger().logger,
    });
    try {
      const taken = config({ listen: `127.0.0.1:${first.adminPort}` });
      await expect(
        startWatcherService(taken, { store: new MemoryIdentityStore(), logger: memoryLogger().logger }),
      ).rejects.toMatchObject({
        code: 'listen_failed',
        message: expect.stringMatching(/^cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/),
      });
    } finally {
      await first.stop();
    }
  });

  it('refuses a kubeconfig it cannot load', async () => {
    const noPods = config({ podsFile: undefined, kubeconfig: join(dir, 'missing') });
    await expect(
      startWatcherService(noPods, { store: new MemoryIdentityStore(), logger: memoryLogger().logger }),
    ).rejects.toMatchObject({
      code: 'invalid_kubeconfig',
      message: expect.stringMatching(/cannot load kubeconfig/),
    });
  });
});
