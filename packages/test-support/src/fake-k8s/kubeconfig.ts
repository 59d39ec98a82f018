/** A kubeconfig for the fake API: plain http (so insecure-skip-tls-verify), a bearer token. */
export function kubeconfigText(server: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: fake',
    '    cluster:',
    `      server: ${server}`,
    '      insecure-skip-tls-verify: true',
    'users:',
    '  - name: fake',
    '    user:',
    `      token: ${token}`,
    'contexts:',
    '  - name: fake',
    '    context: { cluster: fake, user: fake }',
    'current-context: fake',
    '',
  ].join('\n');
}
