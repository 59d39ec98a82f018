// Caddy's forward_auth in front of an upstream, asking `podgate decision` (against a real
// Redis): the Caddyfile docs/decision.md shows. Skipped with a message when caddy is not on
// the PATH (Debian: apt-get install caddy).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type http from 'node:http';
import { freePort, waitFor } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER,
  type DecisionOnRedis,
  type EchoUpstream,
  endProcess,
  httpRequest,
  type RunningDecision,
  startDecisionOnRedis,
  startEchoUpstream,
  TOKEN,
  tempFiles,
  UNHURRIED_LOOKUPS,
} from './decision-support.js';

const haveCaddy = spawnSync('caddy', ['version']).status === 0;
if (!haveCaddy) console.warn('decision-caddy: caddy is not on the PATH; skipping (apt-get install caddy)');

/** The Caddyfile of docs/decision.md, with the test's ports and a storage directory of its own. */
function caddyfile(dir: string, listen: number, decisionPort: number, upstreamPort: number): string {
  return `{
	admin off
	auto_https off
	storage file_system ${dir}/storage
}

http://127.0.0.1:${listen} {
	forward_auth 127.0.0.1:${decisionPort} {
		uri /v1/forward-auth?endpoint=tcp%3A%2F%2Fledger.payments%3A5432
		header_up Authorization "Bearer ${TOKEN}"
		copy_headers X-Podgate-Pod-Name X-Podgate-Pod-Namespace X-Podgate-Pod-Id X-Podgate-Cluster X-Podgate-Dry-Run-Verdict
	}
	reverse_proxy 127.0.0.1:${upstreamPort}
}
`;
}

let store: DecisionOnRedis | undefined;
let decision: RunningDecision | undefined;
let caddy: ChildProcess | undefined;
let caddyPort: number;
let upstream: EchoUpstream | undefined;
const reached: http.IncomingHttpHeaders[] = [];
const files = tempFiles('decision-caddy-');

beforeAll(async () => {
  if (!haveCaddy) return;
  store = await startDecisionOnRedis({
    keyPrefix: 'caddy:',
    files,
    flags: ['--trusted-proxies', '127.0.0.1', ...UNHURRIED_LOOKUPS],
  });
  decision = store.decision;
  upstream = await startEchoUpstream(reached);
  caddyPort = await freePort();
  const config = files.write('Caddyfile', caddyfile(files.dir, caddyPort, decision.port, upstream.port));
  let output = '';
  caddy = spawn('caddy', ['run', '--config', config, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: files.dir, XDG_DATA_HOME: files.dir, XDG_CONFIG_HOME: files.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  caddy.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  caddy.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  await waitFor(`caddy listening (${output.slice(-400)})`, async () => {
    if (caddy?.exitCode !== null) throw new Error(`caddy exited: ${output.slice(-800)}`);
    return (
      (await httpRequest({ port: caddyPort, path: '/', localAddress: '127.0.0.9' }).catch(() => null)) !==
      null
    );
  });
});

afterAll(async () => {
  await endProcess(caddy, 'SIGTERM');
  await store?.stop();
  await upstream?.close();
});

const through = (from: string, headers: Record<string, string> = {}, path = '/app') =>
  httpRequest({ port: caddyPort, path, headers, localAddress: from });

describe.skipIf(!haveCaddy)('Caddy forward_auth in front of an upstream', () => {
  it('lets an allowed pod through with its identity; refuses others with 403, the upstream never reached', async () => {
    reached.length = 0;
    const ok = await through('127.0.0.2');
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({
      'x-podgate-pod-name': 'ledger-client',
      'x-podgate-pod-namespace': 'payments',
      'x-podgate-cluster': CLUSTER,
    });
    expect(decision?.decisions().at(-1)).toMatchObject({
      client: { ip: '127.0.0.2', from: 'x-forwarded-for' },
      peer: { ip: '127.0.0.1' },
    });
    reached.length = 0;
    const denied = await through('127.0.0.3');
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({
      error: { code: 'access_denied', message: "denied by the endpoint's policy" },
    });
    expect(reached).toHaveLength(0);
  });

  it('a client forging X-Forwarded-For, the identity headers, or another endpoint gets nowhere', async () => {
    reached.length = 0;
    expect(
      (await through('127.0.0.3', { 'x-forwarded-for': '127.0.0.2', 'x-real-ip': '127.0.0.2' })).status,
    ).toBe(403);
    // The client's own endpoint, in the query or a header: refused (they disagree with Caddy's).
    expect((await through('127.0.0.3', {}, '/app?endpoint=tcp%3A%2F%2Fstatus.payments%3A8080')).status).toBe(
      403,
    );
    expect(
      (await through('127.0.0.3', { 'x-podgate-endpoint': 'tcp://status.payments:8080' })).status,
    ).not.toBe(200);
    expect(reached).toHaveLength(0);
    const replaced = await through('127.0.0.2', {
      'x-podgate-pod-name': 'admin',
      'x-podgate-dry-run-verdict': 'allow',
    });
    expect(replaced.json()).toMatchObject({ 'x-podgate-pod-name': 'ledger-client' });
    // The ledger is not in dry run: the upstream never sees the client's verdict, nor Caddy's
    // placeholder text for a header the answer lacked.
    expect(replaced.json()['x-podgate-dry-run-verdict'] ?? '').toBe('');
  });

  it('fails closed when the decision service is gone: 502, nothing reaches the upstream', async () => {
    expect(await decision?.stop()).toBe(0);
    decision = undefined;
    reached.length = 0;
    expect((await through('127.0.0.2')).status).toBe(502);
    expect(reached).toHaveLength(0);
  });
});
