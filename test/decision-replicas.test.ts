// Two replicas of `podgate decision` against one Redis: stateless, so they give the same
// answers to every question, including right after the store changes (neither holds
// identity of its own); and a reload in one changes nothing in the other.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  CLUSTER,
  decideOver,
  EXAMPLE_CONFIG,
  httpRequest,
  podRecord,
  type RunningDecision,
  type SeededRedis,
  startSeededRedis,
  tempFiles,
  UNHURRIED_LOOKUPS,
} from './decision-support.js';

const files = tempFiles('decision-replicas-');
let store: SeededRedis;
let replicas: RunningDecision[] = [];
let configOfA: string;

beforeAll(async () => {
  store = await startSeededRedis({ keyPrefix: 'replicas:', files });
  // Each replica has its own copy of the configuration, as two pods with one ConfigMap each would.
  const example = readFileSync(EXAMPLE_CONFIG, 'utf8');
  configOfA = files.write('a.yaml', example);
  const configOfB = files.write('b.yaml', example);
  replicas = await Promise.all(
    [configOfA, configOfB].map((config) =>
      store.start({ configs: [config], flags: ['--log-level', 'warn', ...UNHURRIED_LOOKUPS] }),
    ),
  );
});
afterAll(async () => {
  for (const code of (await store?.stop()) ?? []) expect(code).toBe(0);
});

const ENDPOINTS = ['tcp://ledger.payments:5432', 'http://reports.payments', 'tcp://status.payments:8080'];
const CLIENTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.9', '::ffff:127.0.0.2'];

/** Every endpoint x client decision of one replica, without timings. */
async function answers(replica: RunningDecision) {
  const out: unknown[] = [];
  for (const endpoint of ENDPOINTS) {
    for (const client of CLIENTS) out.push(await decideOver(replica.port, endpoint, client));
  }
  for (const client of CLIENTS) {
    const res = await httpRequest({
      port: replica.port,
      path: `/v1/identities/${client}`,
      headers: bearer(),
    });
    const { lookup_ms: _, ...identity } = res.json();
    out.push(identity);
  }
  return out;
}

describe('two replicas, one Redis', () => {
  it('give the same answers to every question', async () => {
    const [a, b] = [await answers(replicas[0]!), await answers(replicas[1]!)];
    expect(a).toEqual(b);
    expect(a.filter((d) => (d as { allowed?: boolean }).allowed === true).length).toBeGreaterThan(0);
    expect(a.filter((d) => (d as { allowed?: boolean }).allowed === false).length).toBeGreaterThan(0);
  });

  it('see a change in the store at once, both of them (no replica holds identity)', async () => {
    await store.writer.claim(CLUSTER, podRecord('uid-frontend', '127.0.0.3', 'payments', 'frontend', {}));
    for (const replica of replicas) {
      expect(await decideOver(replica.port, 'tcp://ledger.payments:5432', '127.0.0.3')).toMatchObject({
        allowed: true,
        identity: { metadata: { namespace: 'payments' } },
      });
    }
    await store.writer.claim(CLUSTER, {
      ...podRecord('uid-frontend', '127.0.0.3', 'web', 'frontend'),
      resourceVersion: '6',
    });
    expect(await answers(replicas[0]!)).toEqual(await answers(replicas[1]!));
  });

  it('a reload in one changes nothing in the other', async () => {
    const [a, b] = replicas as [RunningDecision, RunningDecision];
    const before = await answers(b);
    // A's configuration now lets every client through the ledger.
    writeFileSync(
      configOfA,
      readFileSync(EXAMPLE_CONFIG, 'utf8').replace(
        'conn.k8s.pod.metadata.namespace != "payments"',
        'conn.k8s.pod.metadata.namespace == "nobody"',
      ),
    );
    expect(await a.service.reload()).toEqual({ applied: true });
    expect(await decideOver(a.port, 'tcp://ledger.payments:5432', '127.0.0.3')).toMatchObject({
      allowed: true,
    });
    expect(await decideOver(b.port, 'tcp://ledger.payments:5432', '127.0.0.3')).toMatchObject({
      allowed: false,
    });
    expect(await answers(b)).toEqual(before);
  });
});
