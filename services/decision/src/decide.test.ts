// decisionAnswerJson is JSON.stringify(decisionAnswer(...)), text for text, for every kind of
// decision the fixtures' endpoints give: allowed, denied by a named or unnamed rule, an
// evaluation error, identity not found or ambiguous, dry run, log and set-vars actions.
import { describe, expect, it } from 'vitest';
import { CONFIG, loadTestConfig, podStore, record } from '../test/fixtures.js';
import { decisionAnswer, decisionAnswerJson, settleDecision } from './decide.js';

const MORE = `---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: named, namespace: payments}
spec:
  url: tcp://named.payments:7000
  trafficPolicy:
    policy:
      on_tcp_connect:
        - name: "the \\"named\\" rule"
          expressions: ['conn.k8s.pod.metadata.namespace == "web"']
          actions: [{type: deny}]
        - name: counted
          actions:
            - type: set-vars
              config: {vars: [{n: 'size(conn.k8s.pod.metadata.name)'}]}
        - actions: [{type: deny}]
`;

describe('decisionAnswerJson', () => {
  it('is the text of decisionAnswer for every endpoint and client of the fixtures', async () => {
    const config = loadTestConfig(CONFIG + MORE).policy;
    const store = await podStore([
      record('uid-worker', ['10.1.0.1'], 'payments', 'worker-a', {
        'k8s.ngrok.com/environment': 'production',
      }),
      record('uid-frontend', ['10.1.0.2'], 'web', 'frontend'),
      record('uid-twin-1', ['10.1.0.9'], 'payments', 'twin-1'),
      record('uid-twin-2', ['10.1.0.9'], 'payments', 'twin-2'),
      record('uid-odd', ['10.1.0.4'], 'pay"ments', 'odd\u2028name', { 'k8s.ngrok.com/x': '\u0000\ud800' }),
    ]);
    let fast = 0;
    for (const endpoint of config.endpoints) {
      for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.9', '10.1.0.4', '10.9.9.9']) {
        const outcome = settleDecision(
          {
            endpoint,
            client: { ip, port: 1234 },
            server: { ip: '', port: endpoint.url.port },
            startedAt: new Date(0),
          },
          await store.lookup(ip, ['test']),
          0,
        );
        const expected = JSON.stringify(decisionAnswer(outcome));
        expect(decisionAnswerJson(outcome), `${endpoint.url.href} ${ip}`).toBe(expected);
        if (outcome.decision.logs.length === 0 && Object.keys(outcome.decision.vars).length === 0) fast++;
      }
    }
    // Most of them took the direct path, not the fallback.
    expect(fast).toBeGreaterThan(20);
  });
});
