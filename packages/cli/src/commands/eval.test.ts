import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIo } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const config = new URL('../../../../examples/podgate.yaml', import.meta.url).pathname;
const pods = new URL('../../../../examples/pods.yaml', import.meta.url).pathname;

async function evaluate(endpoint: string, clientIp: string, extra: string[] = []) {
  const { io, captured } = captureIo();
  const code = await main(
    [
      'eval',
      '--config',
      config,
      '--pods-file',
      pods,
      '--endpoint',
      endpoint,
      '--client-ip',
      clientIp,
      ...extra,
    ],
    io,
  );
  return { code, stderr: captured.stderr, decision: code === 0 ? JSON.parse(captured.stdout) : undefined };
}

describe('podgate eval (pods file)', () => {
  it.each([
    // endpoint, client IP, allowed, action, rule number (from 1), pod name, lookup found
    ['tcp://ledger.payments:5432', '127.0.0.2', true, 'forward-internal', 3, 'worker-a', true],
    ['tcp://ledger.payments:5432', '::ffff:127.0.0.2', true, 'forward-internal', 3, 'worker-a', true],
    ['tcp://ledger.payments:5432', '127.0.0.3', true, 'forward-internal', 3, 'worker-b', true],
    ['tcp://ledger.payments:5432', '127.0.0.4', false, 'deny', 2, 'frontend-7d9f8', true],
    ['tcp://ledger.payments:5432', '127.0.0.9', false, 'deny', 1, '', false],
    // a finished Job pod and a hostNetwork pod own no IP
    ['tcp://ledger.payments:5432', '127.0.0.5', false, 'deny', 1, '', false],
    ['tcp://ledger.payments:5432', '127.0.0.6', false, 'deny', 1, '', false],
    ['http://reports.payments', '127.0.0.2', true, 'forward-internal', 3, 'worker-a', true],
    ['http://reports.payments', '127.0.0.3', false, 'deny', 2, 'worker-b', true],
    // no such annotation: a run-time error in strict CEL, which fails closed
    ['http://reports.payments', '127.0.0.4', false, 'error', 2, 'frontend-7d9f8', true],
    ['tcp://status.payments:8080', '127.0.0.4', false, 'deny', 1, 'frontend-7d9f8', true],
    ['tcp://status.payments:8080', '127.0.0.9', true, 'upstream', undefined, '', false],
  ] as const)('%s from %s: allowed=%s by %s', async (endpoint, ip, allowed, action, rule, name, found) => {
    const { code, decision, stderr } = await evaluate(endpoint, ip);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(decision.allowed).toBe(allowed);
    expect(decision.action).toBe(action);
    expect(decision.rule?.number).toBe(rule);
    expect(decision.identity.metadata.name).toBe(name);
    expect(decision.lookup.found).toBe(found);
    if (!found) expect(decision.identity.metadata.error_code).toBe('ERR_NGROK_28001');
    else expect(decision.identity.metadata.error_code).toBe('');
  });

  it('prints the decision as one line of JSON, exactly', async () => {
    const { io, captured } = captureIo();
    const args = ['eval', '--config', config, '--pods-file', pods, '--endpoint', 'http://reports.payments'];
    expect(await main([...args, '--client-ip', '127.0.0.2'], io)).toBe(0);
    expect(captured.stdout).toBe(
      '{"endpoint":"http://reports.payments","client_ip":"127.0.0.2","allowed":true,"action":"forward-internal","target":"tcp://ledger.payments.internal:5432","rule":{"number":3},"expression":null,"error":null,"logs":[{"pod":"payments/worker-a"}],"vars":{},"identity":{"id":"5f0c1d2e-0a1b-4c3d-8e9f-000000000001","metadata":{"name":"worker-a","namespace":"payments","annotations":{"k8s.ngrok.com/environment":"production","k8s.ngrok.com/tenant-id":"tenant-abc"},"error_code":"","error_message":""},"cluster":"default"},"lookup":{"found":true}}\n',
    );
  });

  it('shows the identity the policy saw, filtered to k8s.ngrok.com/ annotations', async () => {
    const { decision } = await evaluate('tcp://ledger.payments:5432', '127.0.0.2');
    expect(decision.identity).toEqual({
      id: '5f0c1d2e-0a1b-4c3d-8e9f-000000000001',
      metadata: {
        name: 'worker-a',
        namespace: 'payments',
        annotations: { 'k8s.ngrok.com/environment': 'production', 'k8s.ngrok.com/tenant-id': 'tenant-abc' },
        error_code: '',
        error_message: '',
      },
      cluster: 'default',
    });
    expect(decision.target).toBe('tcp://ledger.payments.internal:5432');
  });

  it('carries the log action metadata and the failing expression', async () => {
    const allowed = await evaluate('http://reports.payments', '127.0.0.2');
    expect(allowed.decision.logs).toEqual([{ pod: 'payments/worker-a' }]);
    const failed = await evaluate('http://reports.payments', '127.0.0.4');
    expect(failed.decision.expression.source).toContain('k8s.ngrok.com/environment');
    expect(failed.decision.expression.number).toBe(1);
    expect(failed.decision.error.message).toBeTruthy();
  });

  it('exits 2 on a bad client IP (usage) and 1 on an endpoint the configuration lacks', async () => {
    const badIp = await evaluate('tcp://ledger.payments:5432', '10.1.2');
    expect(badIp.code).toBe(2);
    expect(badIp.stderr).toContain('--client-ip');
    const unknown = await evaluate('tcp://nope.payments:5432', '127.0.0.2');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('tcp://ledger.payments:5432');
  });

  it('refuses a pods file the watcher would refuse (a pod without a uid), naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podgate-eval-'));
    const bad = join(dir, 'pods.yaml');
    const text = await readFile(pods, 'utf8');
    await writeFile(bad, text.replace('uid: 5f0c1d2e-0a1b-4c3d-8e9f-000000000003\n', ''));
    const { io, captured } = captureIo();
    const args = ['eval', '--config', config, '--pods-file', bad, '--endpoint', 'tcp://ledger.payments:5432'];
    expect(await main([...args, '--client-ip', '127.0.0.2'], io)).toBe(1);
    expect(captured.stderr).toContain(`--pods-file ${bad}:`);
    expect(captured.stdout).toBe('');
  });

  it('surfaces the annotation prefixes it is given, as the watcher would', async () => {
    const { decision } = await evaluate('tcp://ledger.payments:5432', '127.0.0.2', [
      '--annotation-prefix',
      'kubectl.kubernetes.io/',
    ]);
    expect(decision.identity.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/restartedAt': '2026-11-20T10:00:00Z',
    });
  });

  it('takes one cluster with a pods file', async () => {
    const { io, captured } = captureIo();
    const args = ['eval', '--config', config, '--pods-file', pods, '--client-ip', '127.0.0.2'];
    expect(await main([...args, '--cluster', 'a', '--cluster', 'b'], io)).toBe(2);
    expect(captured.stderr).toContain('at most one --cluster');
  });

  it('exits 2 without an identity source', async () => {
    const { io, captured } = captureIo();
    expect(await main(['eval', '--config', config, '--client-ip', '127.0.0.2'], io)).toBe(2);
    expect(captured.stderr).toContain('--pods-file');
  });
});
