import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeAccessFromKubeConfig, kubeAccessOptions, locateKubeAccess } from './kube-access.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-access-'));
const home = join(dir, 'config');

describe('where the Kubernetes API access comes from', () => {
  it('takes --kubeconfig/KUBECONFIG (its first file), then in-cluster, then ~/.kube/config', () => {
    writeFileSync(home, 'apiVersion: v1\n');
    const options = (config: Parameters<typeof kubeAccessOptions>[0]) => ({
      ...kubeAccessOptions(config),
      homeKubeconfig: home,
    });
    expect(locateKubeAccess(options({ kubeconfig: ':/a:/b', kubernetesServicePort: '443' }))).toEqual({
      kind: 'kubeconfig',
      path: '/a',
    });
    expect(
      locateKubeAccess(options({ kubernetesServiceHost: '10.0.0.1', kubernetesServicePort: '6443' })),
    ).toEqual({ kind: 'in-cluster', host: '10.0.0.1', port: '6443' });
    expect(locateKubeAccess(options({ kubernetesServicePort: '443' }))).toEqual({
      kind: 'kubeconfig',
      path: home,
    });
  });

  it('with none of them: no_pod_source, naming everything it looked for', () => {
    const missing = join(dir, 'nowhere', 'config');
    expect(() => locateKubeAccess({ homeKubeconfig: missing })).toThrow(
      expect.objectContaining({
        code: 'no_pod_source',
        message: expect.stringMatching(
          new RegExp(
            `^no pod source: give --pods-file FILE.*KUBERNETES_SERVICE_HOST is not set.*KUBECONFIG \\(not set\\).*${missing} \\(not found\\)$`,
          ),
        ),
      }),
    );
  });

  it('refuses a plain http:// server without insecure-skip-tls-verify once, instead of on every request', () => {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'local', server: 'http://localhost:8080', skipTLSVerify: false },
      { name: 'u' },
    );
    expect(() => kubeAccessFromKubeConfig(kc)).toThrow(
      expect.objectContaining({
        code: 'invalid_kubeconfig',
        message: expect.stringMatching(/http:\/\/localhost:8080 without insecure-skip-tls-verify/),
      }),
    );
    const insecure = new KubeConfig();
    insecure.loadFromClusterAndUser(
      { name: 'local', server: 'http://localhost:8080', skipTLSVerify: true },
      { name: 'u' },
    );
    expect(kubeAccessFromKubeConfig(insecure).server).toBe('http://localhost:8080');
  });
});
