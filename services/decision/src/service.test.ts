// The decision service as a unit, over real HTTP on the embedded store: start from files,
// reload on SIGHUP and on a changed file (good, bad, the token file), requests in flight keep
// the configuration they started with, and stop() lets them finish.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentityReader, LookupResult } from '@podgate/identity';
import { manualFileWatcher, manualSignals } from '@podgate/runtime';
import { memoryLogger, waitFor } from '@podgate/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, CONFIG, podStore, TOKEN } from '../test/fixtures.js';
import { parseDecisionConfig } from './config.js';
import { type DecisionService, startDecisionService } from './service.js';

let dir: string;
let configFile: string;
let tokenFile: string;
const running: DecisionService[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'decision-service-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const service of running.splice(0)) await service.stop();
});

function files(config = CONFIG, tokens = `${TOKEN}\n`) {
  configFile = join(dir, `config-${running.length}-${Math.random().toString(36).slice(2)}.yaml`);
  tokenFile = join(dir, `tokens-${Math.random().toString(36).slice(2)}`);
  writeFileSync(configFile, config);
  writeFileSync(tokenFile, tokens);
}

function parsed(input: Record<string, unknown> = {}) {
  const result = parseDecisionConfig({
    configFiles: [configFile],
    tokenFile,
    listen: '127.0.0.1:0',
    ...input,
  });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

async function start(options: { store?: IdentityReader; input?: Record<string, unknown> } = {}) {
  const { logger, lines } = memoryLogger();
  const signals = manualSignals();
  const fileWatcher = manualFileWatcher();
  const service = await startDecisionService(parsed(options.input), {
    store: options.store ?? (await podStore()),
    clusters: [CLUSTER],
    logger,
    signals,
    fileWatcher,
    readinessIntervalMs: 50,
  });
  running.push(service);
  const url = `http://127.0.0.1:${service.port}`;
  const decide = (endpoint: string, clientIp: string, token = TOKEN) =>
    fetch(`${url}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint, client_ip: clientIp }),
    });
  return { service, url, lines, signals, fileWatcher, decide };
}

const LEDGER = 'tcp://ledger.payments:5432';
const EXTRA = `---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: extra, namespace: payments}
spec:
  url: tcp://extra.payments:1
  trafficPolicy:
    policy:
      on_tcp_connect:
        - actions: [{type: deny}]
`;

describe('startDecisionService', () => {
  it('serves the API over HTTP from its files, reports ready, and stops', async () => {
    files();
    const { service, url, lines, decide } = await start();
    const res = await decide(LEDGER, '10.1.0.1');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ allowed: true, identity: { id: 'uid-worker' } });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({
      status: 'ready',
      store: 'reachable',
      endpoints: 5,
    });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^podgate_decision_store_reachable 1$/m);
    expect(lines().map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'configuration loaded',
        'identity store reachable',
        expect.stringMatching(/^serving \/v1/),
      ]),
    );
    await service.stop();
    running.splice(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('refuses a bad configuration at start with file, line and column', async () => {
    files(
      'kind: CloudEndpoint\napiVersion: ngrok.k8s.ngrok.com/v1alpha1\nmetadata: {name: x}\nspec: {url: 5}\n',
    );
    const { logger } = memoryLogger();
    await expect(
      startDecisionService(parsed(), { store: await podStore(), clusters: [CLUSTER], logger }),
    ).rejects.toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/config-.*\.yaml:\d+:\d+: error:/),
    });
  });

  it('refuses a bad token file, and a configuration without endpoints', async () => {
    files(CONFIG, 'one token\n');
    const { logger } = memoryLogger();
    const deps = { store: await podStore(), clusters: [CLUSTER], logger };
    await expect(startDecisionService(parsed(), deps)).rejects.toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/line 1: not a bearer token/),
    });
    files('on_tcp_connect:\n  - actions: [{type: deny}]\n');
    await expect(startDecisionService(parsed(), deps)).rejects.toMatchObject({ message: /no endpoint/ });
  });

  it('says so when the address is taken', async () => {
    files();
    const first = await start();
    const { logger } = memoryLogger();
    await expect(
      startDecisionService(parsed({ listen: `127.0.0.1:${first.service.port}` }), {
        store: await podStore(),
        clusters: [CLUSTER],
        logger,
      }),
    ).rejects.toMatchObject({ code: 'listen_failed', message: /EADDRINUSE/ });
  });

  it('warns about --insecure-no-auth and about an empty token file', async () => {
    files();
    const open = await start({ input: { tokenFile: undefined, insecureNoAuth: true } });
    expect(open.lines()).toContainEqual(
      expect.objectContaining({ level: 40, msg: expect.stringMatching(/^--insecure-no-auth/) }),
    );
    expect((await fetch(`${open.url}/v1/identities/10.1.0.1`)).status).toBe(200);
    files(CONFIG, '# nobody yet\n');
    const empty = await start();
    expect(empty.lines()).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: expect.stringMatching(/holds no token: every \/v1 request is refused/),
      }),
    );
    expect((await empty.decide(LEDGER, '10.1.0.1')).status).toBe(401);
  });
});

describe('reload', () => {
  it('SIGHUP swaps in a good configuration; a bad one keeps the last good one and says why', async () => {
    files();
    const { signals, decide, lines, url } = await start();
    expect((await decide('tcp://extra.payments:1', '10.1.0.1')).status).toBe(422);
    writeFileSync(configFile, CONFIG + EXTRA);
    signals.raise('SIGHUP');
    await waitFor(
      'reloaded',
      async () => (await decide('tcp://extra.payments:1', '10.1.0.1')).status === 200,
    );

    writeFileSync(configFile, `${CONFIG}---\nkind: Nonsense\n`);
    signals.raise('SIGHUP');
    await waitFor('refused', () =>
      lines().some((l) => l.msg === 'configuration reload refused; keeping the last good configuration'),
    );
    const refusal = lines().find((l) => l.msg?.toString().startsWith('configuration reload refused'));
    expect(refusal).toMatchObject({
      level: 40,
      trigger: 'SIGHUP',
      reason: expect.stringMatching(/config-.*\.yaml:\d+:\d+/),
    });
    expect((await decide('tcp://extra.payments:1', '10.1.0.1')).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^podgate_config_reloads_total\{result="applied"\} 1$/m);
    expect(metrics).toMatch(/^podgate_config_reloads_total\{result="refused"\} 1$/m);
    expect(metrics).toMatch(/^podgate_config_last_reload_successful 0$/m);
  });

  it('a changed token file is re-read: a new token works, a removed one is refused', async () => {
    files();
    const { fileWatcher, decide } = await start();
    expect(fileWatcher.watched()).toEqual([configFile, tokenFile]);
    // Accepted (and so remembered) before the reload: still refused after it.
    expect((await decide(LEDGER, '10.1.0.1')).status).toBe(200);
    writeFileSync(tokenFile, 'the-next-token-0123456789\n');
    fileWatcher.touch(tokenFile);
    await waitFor(
      'new token',
      async () => (await decide(LEDGER, '10.1.0.1', 'the-next-token-0123456789')).status === 200,
    );
    expect((await decide(LEDGER, '10.1.0.1')).status).toBe(401);
    // A token file that disappears is a bad reload: the tokens in force stay.
    rmSync(tokenFile);
    fileWatcher.touch(tokenFile);
    await new Promise((r) => setTimeout(r, 50));
    expect((await decide(LEDGER, '10.1.0.1', 'the-next-token-0123456789')).status).toBe(200);
  });

  it('a request in flight keeps the configuration it started with; stop() lets it finish', async () => {
    files(CONFIG + EXTRA);
    const store = await podStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = 0;
    // The embedded store, answering late: the request is in flight while the reload lands.
    const slow: IdentityReader = {
      lookup: async (ip, clusters): Promise<LookupResult> => {
        if (ip === '10.1.0.1') {
          held++;
          await gate;
        }
        return store.lookup(ip, clusters);
      },
    };
    const { service, decide, url } = await start({ store: slow });
    const inFlight = decide('tcp://extra.payments:1', '10.1.0.1');
    await waitFor('in flight', () => held === 1);
    writeFileSync(configFile, CONFIG);
    writeFileSync(tokenFile, 'rotated-token-0123456789\n');
    expect(await service.reload()).toEqual({ applied: true });
    expect((await decide('tcp://extra.payments:1', '10.1.0.2', 'rotated-token-0123456789')).status).toBe(422);

    const stopping = service.stop();
    running.splice(0);
    await waitFor('not ready', () => !service.readiness().ready);
    expect(service.readiness().detail).toMatchObject({ stopping: true });
    release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    // Keep-alive clients are told to let go, so the drain does not wait for them.
    expect(answer.headers.get('connection')).toBe('close');
    expect(await answer.json()).toMatchObject({
      endpoint: 'tcp://extra.payments:1',
      allowed: false,
      action: 'deny',
    });
    await stopping;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
