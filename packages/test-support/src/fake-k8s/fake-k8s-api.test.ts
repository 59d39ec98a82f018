// The fake API must look like the real one to @kubernetes/client-node itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeK8sApi, podObject, startFakeK8sApi } from './index.js';

let api: FakeK8sApi;
let dir: string;
let kc: KubeConfig;

beforeAll(async () => {
  api = await startFakeK8sApi({ historyLimit: 5 });
  dir = mkdtempSync(join(tmpdir(), 'fake-k8s-'));
  kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(join(dir, 'kubeconfig')));
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, token: string | null = api.token) =>
  fetch(`${api.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('fake Kubernetes API', () => {
  it('serves client-node lists, with resourceVersion, namespace and label selectors', async () => {
    api.addPod(podObject({ name: 'a', namespace: 'one', ip: '10.0.0.1', labels: { app: 'x' } }));
    api.addPod(podObject({ name: 'b', namespace: 'two', ip: '10.0.0.2', labels: { app: 'y' } }));
    const core = kc.makeApiClient(CoreV1Api);
    const all = await core.listPodForAllNamespaces();
    expect(all.items.map((p) => p.metadata?.name).sort()).toEqual(['a', 'b']);
    expect(all.metadata?.resourceVersion).toBe(String(api.resourceVersion));
    const one = await core.listNamespacedPod({ namespace: 'one' });
    expect(one.items.map((p) => p.metadata?.name)).toEqual(['a']);
    const selected = await core.listPodForAllNamespaces({ labelSelector: 'app=y' });
    expect(selected.items.map((p) => p.metadata?.name)).toEqual(['b']);
  });

  it('refuses requests without the bearer token', async () => {
    const res = await get('/api/v1/pods', 'wrong');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: number }).code).toBe(401);
  });

  it('paginates a consistent snapshot with limit/continue', async () => {
    const first = (await (await get('/api/v1/pods?limit=1')).json()) as {
      metadata: { continue?: string; resourceVersion: string };
      items: unknown[];
    };
    expect(first.items).toHaveLength(1);
    api.addPod(podObject({ name: 'c', namespace: 'one' }));
    const second = (await (await get(`/api/v1/pods?limit=5&continue=${first.metadata.continue}`)).json()) as {
      metadata: { continue?: string; resourceVersion: string };
      items: unknown[];
    };
    // The pod added after the first page is not in this listing.
    expect(second.items).toHaveLength(1);
    expect(second.metadata.continue).toBeUndefined();
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
  });

  it('streams watch events to client-node Watch, and 410 once the history is compacted', async () => {
    const from = String(api.resourceVersion);
    const events: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/pods',
      { resourceVersion: from, allowWatchBookmarks: true },
      (type, obj: { metadata?: { name?: string } }) => events.push(`${type} ${obj.metadata?.name ?? ''}`),
      () => {},
    );
    api.addPod(podObject({ name: 'd', namespace: 'one' }));
    api.updatePod('one', 'd', (p) => {
      p.status = { phase: 'Running', podIP: '10.0.0.4' };
    });
    api.sendBookmarks();
    api.deletePod('one', 'd');
    await expect.poll(() => events).toEqual(['ADDED d', 'MODIFIED d', 'BOOKMARK ', 'DELETED d']);
    controller.abort();

    api.compactHistory();
    const res = await get(`/api/v1/pods?watch=true&resourceVersion=${from}`);
    const line = JSON.parse((await res.text()).trim()) as { type: string; object: { code: number } };
    expect(line.type).toBe('ERROR');
    expect(line.object.code).toBe(410);
  });

  it('answers 503 while down, and counts requests', async () => {
    const lists = api.counts.list;
    api.setDown(true);
    expect((await get('/api/v1/pods')).status).toBe(503);
    api.setDown(false);
    expect((await get('/api/v1/pods')).status).toBe(200);
    expect(api.counts.list).toBe(lists + 1);
  });

  it('implements Leases with optimistic concurrency', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
    const send = (method: string, url: string, body: unknown) =>
      fetch(`${api.url}${url}`, {
        method,
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await get(`${path}/l1`)).status).toBe(404);
    const created = await send('POST', path, { metadata: { name: 'l1' }, spec: { holderIdentity: 'a' } });
    expect(created.status).toBe(201);
    const lease = (await created.json()) as { metadata: { resourceVersion: string } };
    expect((await send('POST', path, { metadata: { name: 'l1' }, spec: {} })).status).toBe(409);
    const stale = { metadata: { name: 'l1', resourceVersion: '1' }, spec: { holderIdentity: 'b' } };
    expect((await send('PUT', `${path}/l1`, stale)).status).toBe(409);
    const fresh = {
      metadata: { name: 'l1', resourceVersion: lease.metadata.resourceVersion },
      spec: { holderIdentity: 'b' },
    };
    expect((await send('PUT', `${path}/l1`, fresh)).status).toBe(200);
    expect(api.getLease('kube-system', 'l1')?.spec.holderIdentity).toBe('b');
  });
});
