// The Kubernetes source resumes a watch that fails where it got to: after a dropped
// connection it watches again from the version of the last event (or bookmark) it
// delivered, so no event already applied comes again. On the fake Kubernetes API, which
// records the version each watch request asked for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodRecord } from '@podgate/identity';
import { type FakeK8sApi, memoryLogger, podObject, startFakeK8sApi, waitFor } from '@podgate/test-support';
import { testKubeSource } from '@podgate/test-support/watcher';
import { createMetrics, type KubernetesPodSource, loadKubeAccess } from '@podgate/watcher';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

let dir: string;
let api: FakeK8sApi | undefined;
let source: KubernetesPodSource | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'watcher-resume-'));
});
afterEach(async () => {
  await source?.stop();
  await api?.close();
  source = undefined;
  api = undefined;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the source on a fresh fake API; `seen` gets every event as `TYPE name@version`. */
async function start(namespace?: string) {
  const fake = await startFakeK8sApi({ historyLimit: 1000 });
  api = fake;
  const access = await loadKubeAccess({ kubeconfigPath: fake.writeKubeconfig(join(dir, `kc-${fake.port}`)) });
  const seen: string[] = [];
  const listings: string[] = [];
  const line = (type: string, r: PodRecord) => `${type} ${r.name}@${r.resourceVersion}`;
  source = testKubeSource(
    access,
    { logger: memoryLogger().logger, metrics: createMetrics() },
    namespace === undefined ? {} : { namespace },
  );
  source.start({
    listing: (records, version) => listings.push(`${records.map((r) => r.name).join(',')}@${version}`),
    upsert: (r) => seen.push(line('UPSERT', r)),
    remove: (r) => seen.push(line('REMOVE', r)),
  });
  await waitFor('the first listing and watch', () => listings.length === 1 && fake.activeWatches === 1);
  // Versions from here on, by how many changes later: v(0) is the listing's.
  const base = fake.resourceVersion;
  const v = (n: number) => String(base + n);
  return { fake, seen, listings, v };
}

it('after a dropped watch, watches again from the last delivered event, and nothing comes twice', async () => {
  const { fake, seen, listings, v } = await start();
  fake.addPod(podObject({ name: 'a', ip: '127.0.0.2' })); // 1
  fake.addPod(podObject({ name: 'b', ip: '127.0.0.3' })); // 2
  fake.updatePod('default', 'a', (p) => {
    p.metadata.labels = { v: '2' };
  }); // 3
  fake.deletePod('default', 'b'); // 4
  await waitFor('four events', () => seen.length === 4);
  fake.dropWatches();
  await waitFor('a second watch', () => fake.counts.watch === 2 && fake.activeWatches === 1);
  fake.addPod(podObject({ name: 'c', ip: '127.0.0.4' })); // 5
  await waitFor('the event after the drop', () => seen.length >= 5);
  // Give a replay, if any, time to arrive (the fake sends history at once on a new watch).
  await new Promise((r) => setTimeout(r, 100));
  expect(listings).toEqual([`@${v(0)}`]);
  expect(fake.watchedFrom).toEqual([v(0), v(4)]);
  expect(fake.counts.list).toBe(1);
  expect(seen).toEqual([
    `UPSERT a@${v(1)}`,
    `UPSERT b@${v(2)}`,
    `UPSERT a@${v(3)}`,
    `REMOVE b@${v(4)}`,
    `UPSERT c@${v(5)}`,
  ]);
});

it('after a dropped watch, resumes from a bookmark newer than the last event', async () => {
  // Watching one namespace: changes elsewhere move the version without an event here.
  const { fake, seen, v } = await start('apps');
  fake.addPod(podObject({ name: 'a', namespace: 'apps', ip: '127.0.0.2' })); // 1
  await waitFor('one event', () => seen.length === 1);
  fake.addPod(podObject({ name: 'other', namespace: 'elsewhere', ip: '127.0.0.9' })); // 2
  fake.sendBookmarks();
  // The bookmark carries version 2; nothing observable arrives, so wait on the request log
  // after the drop instead.
  await new Promise((r) => setTimeout(r, 100));
  fake.dropWatches();
  await waitFor('a second watch', () => fake.counts.watch === 2);
  expect(fake.watchedFrom).toEqual([v(0), v(2)]);
  expect(seen).toEqual([`UPSERT a@${v(1)}`]);
});

it('a watch that fails before any event resumes from the listing, and 410 still relists', async () => {
  const { fake, listings, v } = await start();
  fake.dropWatches();
  await waitFor('a second watch', () => fake.counts.watch === 2 && fake.activeWatches === 1);
  // The watch hears nothing more; a change it never delivers, then history compacted.
  fake.silence();
  fake.addPod(podObject({ name: 'a', ip: '127.0.0.2' })); // 1
  fake.compactHistory();
  fake.dropWatches();
  await waitFor('a relist and a watch from it', () => listings.length === 2 && fake.activeWatches === 1);
  // From the listing again (410 Gone), then from the new listing.
  expect(fake.watchedFrom).toEqual([v(0), v(0), v(0), v(1)]);
  expect(listings).toEqual([`@${v(0)}`, `a@${v(1)}`]);
});
