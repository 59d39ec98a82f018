// The endpoint configurations the proxy's tests use, written once.
const API = 'apiVersion: ngrok.k8s.ngrok.com/v1alpha1';
const indent = (text: string, by: string) => text.replace(/^/gm, by);

/** An AgentEndpoint `tcp://app.payments:7000` to the upstream; `rules`: an inline on_tcp_connect list. */
export function appEndpoint(upstreamPort: number, rules?: string): string {
  const policy =
    rules === undefined
      ? ''
      : `\n  trafficPolicy:\n    inline:\n      on_tcp_connect:\n${indent(rules, '        ')}`;
  return `${API}
kind: AgentEndpoint
metadata: {name: app, namespace: payments}
spec:
  url: tcp://app.payments:7000
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${upstreamPort}"}${policy}
`;
}

/** The internal endpoint `tcp://NAME.payments.internal:5432`, served by the upstream. */
export function internalEndpoint(name: string, upstreamPort: number): string {
  return `${API}
kind: AgentEndpoint
metadata: {name: ${name}-internal, namespace: payments}
spec:
  url: tcp://${name}.payments.internal:5432
  upstream: {url: "tcp://127.0.0.1:${upstreamPort}"}
`;
}

/** The seed's fail-closed gate: only pods of `namespace` reach ledger.payments.internal. */
export const failClosed = (
  namespace = 'payments',
) => `- expressions: ['conn.k8s.pod.metadata.error_code != ""']
  actions: [{type: deny}]
- expressions: ['conn.k8s.pod.metadata.namespace != "${namespace}"']
  actions: [{type: deny}]
- actions:
    - type: forward-internal
      config: {url: "tcp://ledger.payments.internal:5432"}`;

/** The seed's fail-open gate: unknown clients pass, pods of other namespaces do not. */
export const failOpen = `- expressions: ['conn.k8s.pod.metadata.error_code == "" && conn.k8s.pod.metadata.namespace != "payments"']
  actions: [{type: deny}]
- actions:
    - type: forward-internal
      config: {url: "tcp://ledger.payments.internal:5432"}`;

/** A Kubernetes-bound CloudEndpoint `url` with `rules` as its policy; `metadata`: extra flow entries. */
export function cloudEndpoint(options: {
  name: string;
  url: string;
  rules: string;
  metadata?: string;
}): string {
  return `${API}
kind: CloudEndpoint
metadata: {name: ${options.name}, namespace: payments${options.metadata ?? ''}}
spec:
  url: ${options.url}
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
${indent(options.rules, '        ')}
`;
}

/** The ledger: its internal endpoint on the upstream, and the fail-closed gate in front. */
export function ledgerConfig(
  upstreamPort: number,
  options: { namespace?: string; metadata?: string } = {},
): string {
  return `${internalEndpoint('ledger', upstreamPort)}---
${cloudEndpoint({
  name: 'ledger',
  url: 'tcp://ledger.payments:5432',
  rules: failClosed(options.namespace),
  ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
})}`;
}
