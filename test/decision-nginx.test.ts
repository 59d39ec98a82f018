// A real nginx (Debian's, auth_request) in front of an upstream, asking `podgate decision`
// (against a real Redis) for every request: the configuration docs/decision.md shows. A pod
// the policy allows reaches the upstream with its identity in headers; others get nginx's 403
// and nothing reaches the upstream; a client forging X-Forwarded-For, the identity headers or
// the endpoint gets nowhere; with the decision service gone, nginx fails closed (500).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import { freePort, waitFor } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER,
  type DecisionOnRedis,
  type EchoUpstream,
  EXAMPLE_CONFIG,
  endProcess,
  httpRequest,
  type RunningDecision,
  startDecisionOnRedis,
  startEchoUpstream,
  TOKEN,
  tempFiles,
  UNHURRIED_LOOKUPS,
} from './decision-support.js';

const NGINX = '/usr/sbin/nginx';
const haveNginx = existsSync(NGINX) && spawnSync(NGINX, ['-V']).status === 0;

const SHADOW = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: shadow
  namespace: payments
  annotations: {podgate.io/dry-run: "true"}
spec:
  url: tcp://shadow.payments:5432
  trafficPolicy:
    policy:
      on_tcp_connect:
        - expressions: ['conn.k8s.pod.metadata.error_code != "" || conn.k8s.pod.metadata.namespace != "payments"']
          actions: [{type: deny}]
        - actions: [{type: forward-internal, config: {url: tcp://ledger.payments.internal:5432}}]
`;

/** The nginx configuration of docs/decision.md, with the test's ports and paths. */
function nginxConf(dir: string, listen: number, decisionPort: number, upstreamPort: number): string {
  const gate = (endpoint: string) => `
      auth_request /_podgate/${endpoint === 'tcp://ledger.payments:5432' ? 'ledger' : 'shadow'};
      auth_request_set $pod_name $upstream_http_x_podgate_pod_name;
      auth_request_set $pod_namespace $upstream_http_x_podgate_pod_namespace;
      auth_request_set $pod_id $upstream_http_x_podgate_pod_id;
      auth_request_set $pod_cluster $upstream_http_x_podgate_cluster;
      auth_request_set $dry_run_verdict $upstream_http_x_podgate_dry_run_verdict;
      proxy_set_header X-Podgate-Pod-Name $pod_name;
      proxy_set_header X-Podgate-Pod-Namespace $pod_namespace;
      proxy_set_header X-Podgate-Pod-Id $pod_id;
      proxy_set_header X-Podgate-Cluster $pod_cluster;
      proxy_set_header X-Podgate-Dry-Run-Verdict $dry_run_verdict;
      proxy_pass http://127.0.0.1:${upstreamPort};`;
  const check = (name: string, endpoint: string) => `
    location = /_podgate/${name} {
      internal;
      proxy_pass http://podgate/v1/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Podgate-Endpoint "${endpoint}";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Authorization "Bearer ${TOKEN}";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`;
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream podgate {
    server 127.0.0.1:${decisionPort};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${listen};
    location / {${gate('tcp://ledger.payments:5432')}
    }
    location /shadow/ {${gate('tcp://shadow.payments:5432')}
    }
${check('ledger', 'tcp://ledger.payments:5432')}
${check('shadow', 'tcp://shadow.payments:5432')}
  }
}
`;
}

let store: DecisionOnRedis | undefined;
let decision: RunningDecision | undefined;
let nginx: ChildProcess | undefined;
let nginxPort: number;
let upstream: EchoUpstream | undefined;
const reached: http.IncomingHttpHeaders[] = [];
const files = tempFiles('decision-nginx-');

beforeAll(async () => {
  if (!haveNginx) return;
  store = await startDecisionOnRedis({
    keyPrefix: 'nginx:',
    files,
    configs: [EXAMPLE_CONFIG, files.write('shadow.yaml', SHADOW)],
    flags: ['--trusted-proxies', '127.0.0.1', ...UNHURRIED_LOOKUPS],
  });
  decision = store.decision;
  upstream = await startEchoUpstream(reached);
  for (let attempt = 0; ; attempt++) {
    nginxPort = await freePort();
    const conf = files.write('nginx.conf', nginxConf(files.dir, nginxPort, decision.port, upstream.port));
    nginx = spawn(NGINX, ['-p', files.dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let exited = false;
    nginx.once('exit', () => {
      exited = true;
    });
    try {
      await waitFor('nginx listening', async () => {
        if (exited) throw new Error('nginx exited');
        return (
          (await httpRequest({ port: nginxPort, path: '/healthz-probe', localAddress: '127.0.0.9' }).catch(
            () => null,
          )) !== null
        );
      });
      break;
    } catch (error) {
      nginx.kill('SIGKILL');
      if (attempt === 2)
        throw new Error(
          `nginx did not start: ${readFileSync(`${files.dir}/error.log`, 'utf8').slice(-800)}`,
          { cause: error },
        );
    }
  }
});

afterAll(async () => {
  await endProcess(nginx, 'SIGQUIT');
  await store?.stop();
  await upstream?.close();
});

const through = (from: string, headers: Record<string, string> = {}, path = '/app/data') =>
  httpRequest({ port: nginxPort, path, headers, localAddress: from });

describe.skipIf(!haveNginx)('nginx auth_request in front of an upstream', () => {
  it('lets an allowed pod through, with its identity for the upstream', async () => {
    reached.length = 0;
    const res = await through('127.0.0.2');
    expect(res.status).toBe(200);
    expect(reached).toHaveLength(1);
    expect(res.json()).toMatchObject({
      'x-podgate-pod-name': 'ledger-client',
      'x-podgate-pod-namespace': 'payments',
      'x-podgate-pod-id': 'uid-ledger-client',
      'x-podgate-cluster': CLUSTER,
    });
    expect(decision?.decisions().at(-1)).toMatchObject({
      client: { ip: '127.0.0.2', from: 'x-forwarded-for' },
      peer: { ip: '127.0.0.1' },
      verdict: 'allow',
    });
  });

  it('refuses a pod of another namespace and an unknown client: 403, the upstream never reached', async () => {
    reached.length = 0;
    expect((await through('127.0.0.3')).status).toBe(403);
    expect((await through('127.0.0.9')).status).toBe(403);
    expect(reached).toHaveLength(0);
  });

  it('a client forging X-Forwarded-For, the identity headers or the endpoint gets nowhere', async () => {
    reached.length = 0;
    const forged = await through('127.0.0.3', {
      'x-forwarded-for': '127.0.0.2',
      'x-real-ip': '127.0.0.2',
      'x-podgate-pod-name': 'ledger-client',
      'x-podgate-endpoint': 'tcp://status.payments:8080',
    });
    expect(forged.status).toBe(403);
    expect(reached).toHaveLength(0);
    expect(decision?.decisions().at(-1)).toMatchObject({
      endpoint: 'tcp://ledger.payments:5432',
      client: { ip: '127.0.0.3', from: 'x-forwarded-for' },
    });
    // An allowed pod's forged identity headers are replaced by the real ones.
    const replaced = await through('127.0.0.2', {
      'x-podgate-pod-name': 'admin',
      'x-podgate-pod-namespace': 'kube-system',
    });
    expect(replaced.json()).toMatchObject({
      'x-podgate-pod-name': 'ledger-client',
      'x-podgate-pod-namespace': 'payments',
    });
  });

  it('passes a dry-run endpoint through, the would-be verdict in a header', async () => {
    reached.length = 0;
    const res = await through('127.0.0.3', {}, '/shadow/report');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      'x-podgate-dry-run-verdict': 'deny',
      'x-podgate-pod-namespace': 'web',
    });
  });

  it('fails closed when the decision service is gone: 500, nothing reaches the upstream', async () => {
    expect(await decision?.stop()).toBe(0);
    decision = undefined;
    reached.length = 0;
    expect((await through('127.0.0.2')).status).toBe(500);
    expect(reached).toHaveLength(0);
  });
});
