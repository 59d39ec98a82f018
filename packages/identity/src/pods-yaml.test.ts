import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { parsePodsYaml } from './pods-yaml.js';

const kubectlList = `apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      k8s.ngrok.com/environment: production
    name: web-0
    namespace: payments
    resourceVersion: "100"
    uid: 11111111-1111-1111-1111-111111111111
  spec:
    containers:
    - name: web
      image: nginx
  status:
    phase: Running
    podIP: 10.0.0.1
    podIPs:
    - ip: 10.0.0.1
    - ip: fd00::1
- apiVersion: v1
  kind: Pod
  metadata:
    name: node-exporter
    namespace: monitoring
    uid: 22222222-2222-2222-2222-222222222222
  spec:
    hostNetwork: true
kind: List
metadata:
  resourceVersion: ""
`;

const errorOf = (fn: () => unknown): IdentityError => {
  try {
    fn();
  } catch (err) {
    return err as IdentityError;
  }
  throw new Error('expected an error');
};

describe('parsePodsYaml', () => {
  it('reads `kubectl get pods -A -o yaml` output, keeping only what derivation needs', () => {
    const pods = parsePodsYaml(kubectlList, 'pods.yaml');
    expect(pods).toHaveLength(2);
    expect(pods[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        uid: '11111111-1111-1111-1111-111111111111',
        name: 'web-0',
        namespace: 'payments',
        resourceVersion: '100',
        annotations: { 'k8s.ngrok.com/environment': 'production' },
      },
      status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] },
    });
    expect(pods[1]?.spec).toEqual({ hostNetwork: true });
  });

  it('reads a PodList and several Pod documents', () => {
    const list = kubectlList.replace('kind: List', 'kind: PodList');
    expect(parsePodsYaml(list, 'f')).toHaveLength(2);
    const docs = `kind: Pod
metadata: {uid: a, name: a, namespace: n}
---
kind: Pod
metadata: {uid: b, name: b, namespace: n}
---
`;
    expect(parsePodsYaml(docs, 'f').map((p) => p.metadata?.uid)).toEqual(['a', 'b']);
    expect(parsePodsYaml('', 'f')).toEqual([]);
    expect(parsePodsYaml('kind: List\nitems: []\n', 'f')).toEqual([]);
  });

  it.each([
    ['kind: Pod\nmetadata: {uid: a, name: a\n', /^bad\.yaml:3:1: /],
    [
      'kind: Deployment\nmetadata: {}\n',
      /^bad\.yaml:1:1: expected kind Pod, PodList or List, found "Deployment"/,
    ],
    ['- 1\n- 2\n', /^bad\.yaml:1:1: expected a Pod/],
    [
      'kind: List\nitems:\n  - kind: Pod\n    metadata: {uid: a, name: a, namespace: n}\n  - kind: Pod\n    metadata: {name: b}\n',
      /^bad\.yaml:5:5: pod has no metadata.uid, metadata.namespace/,
    ],
    [
      'kind: List\nitems:\n  - kind: Service\n    metadata: {}\n',
      /^bad\.yaml:3:5: expected a Pod item, found kind "Service"/,
    ],
    ['kind: List\nitems: 3\n', /^bad\.yaml:2:8: items must be a list/],
    [
      'kind: List\nitems:\n- kind: Pod\n  metadata:\n    uid: a\n    name: a\n    namespace: n\n    name: b\n',
      /^bad\.yaml:8:5: duplicated mapping key$/,
    ],
  ])('names file and line: %j', (text, message) => {
    const err = errorOf(() => parsePodsYaml(text, 'bad.yaml'));
    expect(err).toBeInstanceOf(IdentityError);
    expect(err.code).toBe('invalid_pods_file');
    expect(err.message).toMatch(message);
  });
});
