// The pods-file source: YAML as `kubectl get pods -A -o yaml` prints it, re-read on
// change (fs.watch, and polling alone), a bad edit keeps the last good state.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryIdentityStore } from '@podgate/identity';
import { systemClock } from '@podgate/runtime';
import { memoryLogger, owner, waitFor } from '@podgate/test-support';
import {
  createMetrics,
  PodsFileSource,
  podsFileParser,
  type RunningWatcher,
  startWatcher,
} from '@podgate/watcher';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let version = 100;
const podYaml = (name: string, ip: string, extra = '') => `  - apiVersion: v1
    kind: Pod
    metadata:
      name: ${name}
      namespace: files
      uid: uid-${name}
      resourceVersion: "${++version}"${extra}
    spec:
      containers: [{ name: app, image: x }]
    status:
      phase: Running
      podIP: ${ip}
`;
const listYaml = (...pods: string[]) =>
  `apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: ""\nitems:\n${pods.join('')}`;

describe.each([
  ['fs.watch', true],
  ['polling only', false],
])('pods file source (%s)', (_label, fsWatch) => {
  let dir: string;
  let file: string;
  let watcher: RunningWatcher;
  let store: MemoryIdentityStore;
  let logs: () => Array<Record<string, unknown>>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'watcher-file-'));
    file = join(dir, 'pods.yaml');
    store = new MemoryIdentityStore();
  });
  afterEach(async () => {
    await watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs once, right after the next parse: a writer going on while the file is being read. */
  let duringNextParse: (() => void) | null = null;
  const start = () => {
    const { logger, lines } = memoryLogger();
    logs = lines;
    const metrics = createMetrics();
    const parseFile = podsFileParser();
    const parse = (text: string, path: string) => {
      const records = parseFile(text, path);
      const interfere = duringNextParse;
      duringNextParse = null;
      interfere?.();
      return records;
    };
    const source = new PodsFileSource(
      { parse, clock: systemClock, logger, metrics },
      { path: file, pollIntervalMs: 50, debounceMs: 20, fsWatch },
    );
    watcher = startWatcher(
      { cluster: 'files', heartbeatIntervalMs: 50, heartbeatTtlMs: 2_000, apiGraceMs: 1_000 },
      { store, source, logger, metrics },
    );
    return watcher;
  };
  const who = (ip: string) => owner(store, ip, 'files');

  it('reads the file, follows rewrites and renames, keeps the last good state on a bad edit', async () => {
    writeFileSync(file, listYaml(podYaml('a', '10.2.0.1'), podYaml('b', '10.2.0.2')));
    await start().ready;
    expect(await who('10.2.0.1')).toBe('files/a');
    expect(await who('10.2.0.2')).toBe('files/b');

    // In-place rewrite: b gone, c added, a's annotation changed.
    const good = listYaml(
      podYaml('a', '10.2.0.1', '\n      annotations: { k8s.ngrok.com/env: prod }'),
      podYaml('c', '10.2.0.3'),
    );
    writeFileSync(file, good);
    await waitFor('rewrite applied', async () => (await who('10.2.0.3')) === 'files/c');
    expect(await who('10.2.0.2')).toBe('!not_found');
    const a = await store.lookup('10.2.0.1', ['files']);
    expect(a.ok && a.identity.annotations).toEqual({ 'k8s.ngrok.com/env': 'prod' });

    // A broken edit: refused as a whole, logged with file and line, last good state kept.
    writeFileSync(file, `${listYaml(podYaml('d', '10.2.0.4'))}  - [unclosed\n`);
    const kept = 'pods file unusable; keeping the last good state (2 pods)';
    await waitFor('bad file logged', () => logs().some((l) => l.msg === kept));
    const error = logs().find((l) => l.msg === kept);
    expect(String(error?.err)).toContain('pods.yaml:');
    expect(error?.lastGoodPods).toBe(2);
    expect(await who('10.2.0.4')).toBe('!not_found');
    expect(await who('10.2.0.3')).toBe('files/c');
    expect(watcher.status().heartbeating).toBe(true);
    expect(watcher.status().source.lastError).toContain('pods.yaml:');

    // The bad edit undone (the same bytes as the last good file): healthy again.
    writeFileSync(file, good);
    await waitFor('error cleared', () => watcher.status().source.lastError === null);
    expect(await who('10.2.0.3')).toBe('files/c');

    // An atomic replace (write elsewhere, rename over it), as editors and kubectl > do.
    writeFileSync(join(dir, 'next.yaml'), listYaml(podYaml('e', '10.2.0.5')));
    renameSync(join(dir, 'next.yaml'), file);
    await waitFor('rename applied', async () => (await who('10.2.0.5')) === 'files/e');
    expect(await who('10.2.0.1')).toBe('!not_found');
    expect(await who('10.2.0.3')).toBe('!not_found');
  });

  it('does not apply a read the file was rewritten during (a cut-off file that still parses)', async () => {
    const a = podYaml('a', '10.2.3.1', '\n      annotations:\n        k8s.ngrok.com/env: production-eu');
    const full = listYaml(a, podYaml('b', '10.2.3.2'));
    writeFileSync(file, full);
    await start().ready;
    const read = () =>
      logs()
        .filter((l) => l.msg === 'pods file read')
        .map((l) => l.pods);
    expect(read()).toEqual([2]);

    // The writer truncates and writes a first piece, which ends inside a's annotation and
    // parses (b is missing, a's value cut short); it writes the rest while that piece is read.
    const rewritten = full.replace('production-eu', 'production-us');
    const cut = rewritten.slice(0, rewritten.indexOf('production-us') + 'produc'.length);
    expect(() => podsFileParser()(cut, file)).not.toThrow();
    duringNextParse = () => writeFileSync(file, rewritten);
    writeFileSync(file, cut);
    await waitFor('the rewrite applied', async () => {
      const found = await store.lookup('10.2.3.1', ['files']);
      return found.ok && found.identity.annotations['k8s.ngrok.com/env'] === 'production-us';
    });
    expect(duringNextParse).toBeNull();
    expect(read()).toEqual([2, 2]);
    expect(await who('10.2.3.2')).toBe('files/b');
  });

  it('a pod removed from the file while no watcher ran is gone after a restart, even the newest', async () => {
    const a = podYaml('a', '10.2.2.1');
    const b = podYaml('b', '10.2.2.2'); // newer than a: no pod left in the file is newer than it
    writeFileSync(file, listYaml(a, b));
    const first = start();
    await first.ready;
    expect(await who('10.2.2.2')).toBe('files/b');
    await first.stop();
    writeFileSync(file, listYaml(a));
    await start().ready;
    expect(await who('10.2.2.2')).toBe('!not_found');
    expect(await who('10.2.2.1')).toBe('files/a');
  });

  it('does not become ready while the file is missing, and starts once it appears', async () => {
    start();
    // There is no last good state to keep: the message says so.
    await waitFor('missing file logged', () =>
      logs().some(
        (l) => l.msg === 'pods file unusable, and never read: no pods are recorded until it is fixed',
      ),
    );
    expect(logs().some((l) => String(l.msg).includes('keeping'))).toBe(false);
    expect(watcher.status().synced).toBe(false);
    writeFileSync(file, listYaml(podYaml('a', '10.2.1.1')));
    await watcher.ready;
    expect(await who('10.2.1.1')).toBe('files/a');
  });
});
