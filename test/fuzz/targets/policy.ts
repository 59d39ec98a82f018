// Policy files and CEL expressions, as a user (or a compromised config pipeline) writes
// them. Invariants: loadPolicyFiles never throws; a refusal carries at least one error, each
// at this file, line >= 1 and column >= 1 within the text; a loaded config evaluates every
// endpoint and policy for identities with and without annotations, and without identity, and
// evaluation never throws out of the engine (a run-time CEL error is a decision).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadResult, loadPolicyFiles, type PodVars } from '@podgate/policy';
import { FuzzFinding, type FuzzTarget } from '../harness.js';

const FILE = 'fuzz.yaml';
const conn = {
  clientIp: '127.0.0.2',
  clientPort: 40000,
  serverIp: '127.0.0.1',
  serverPort: 443,
  startedAt: new Date(0),
};
const pods: PodVars[] = [
  {
    id: 'u1',
    name: 'worker-a',
    namespace: 'payments',
    annotations: { 'k8s.ngrok.com/environment': 'production' },
    cluster: 'c',
    errorCode: '',
    errorMessage: '',
  },
  {
    id: 'u2',
    name: 'w',
    namespace: 'n',
    annotations: {},
    cluster: 'c',
    errorCode: 'ERR_NGROK_28000',
    errorMessage: 'too large',
  },
  {
    id: '',
    name: '',
    namespace: '',
    annotations: {},
    cluster: '',
    errorCode: 'ERR_NGROK_28001',
    errorMessage: 'Failed to retrieve pod identity metadata',
  },
];

function check(text: string, result: LoadResult): void {
  if (!result.ok) {
    if (result.errors.length === 0) throw new FuzzFinding('refused without an error');
    const lines = text.split(/\r\n|\r|\n/).length + 1;
    for (const e of result.errors) {
      if (e.file !== FILE || !(e.line >= 1) || !(e.column >= 1) || e.line > lines || e.message === '') {
        throw new FuzzFinding(`error without a usable position: ${JSON.stringify(e).slice(0, 200)}`);
      }
    }
    return;
  }
  for (const compiled of [...result.config.endpoints, ...result.config.policies]) {
    for (const pod of pods) {
      const decision = compiled.evaluateTcpConnect({ conn, pod });
      if (typeof decision.allowed !== 'boolean') throw new FuzzFinding('decision without a verdict');
    }
  }
}

const seedDir = new URL('../../../examples/seed/', import.meta.url);

export const policyYamlTarget: FuzzTarget = {
  name: 'policy-yaml',
  coverPaths: ['/packages/policy/src/'],
  maxLength: 2048,
  dictionary: [
    '\n',
    '\n  ',
    '- ',
    ': ',
    '---\n',
    '&a ',
    '*a',
    '!',
    '!!str ',
    '<<: ',
    '"',
    "'",
    '|\n',
    '{',
    '[',
    '__proto__',
    'constructor',
    'on_tcp_connect:',
    'expressions:',
    'actions:',
    'type: deny',
    'forward-internal',
    'tcp://a.b:1',
    'conn.k8s.pod.metadata.annotations',
    '\t',
    '#',
  ],
  seeds: () => {
    const dir = seedDir.pathname;
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => readFileSync(join(dir, f)));
  },
  run(input) {
    const text = Buffer.from(input).toString('utf8');
    check(text, loadPolicyFiles([{ path: FILE, text }]));
  },
};

/** One expression in a fixed policy, so mutations land in CEL rather than in YAML. */
export const policyCelTarget: FuzzTarget = {
  name: 'policy-cel',
  coverPaths: ['/packages/policy/src/', '/@marcbachmann/cel-js/'],
  maxLength: 300,
  dictionary: [
    'conn.k8s.pod.metadata.',
    'name',
    'namespace',
    'annotations',
    '["k8s.ngrok.com/x"]',
    'error_code',
    'conn.client_ip',
    'inCidrRange(',
    'inCidrRanges(',
    '"10.0.0.0/8"',
    '.matches(',
    '"(a+)+$"',
    ' && ',
    ' || ',
    '!',
    '==',
    '!=',
    ' in ',
    '[',
    ']',
    '(',
    ')',
    '{',
    '}',
    '"',
    '1',
    '-9223372036854775808',
    '1u',
    '1.5',
    'size(',
    'has(',
    '.startsWith(',
    'int(',
    'string(',
    'vars.',
    'endpoint.',
    '?',
    ':',
    'true',
    'null',
    'b"',
    "'",
    '\\',
  ],
  seeds: () =>
    [
      'conn.k8s.pod.metadata.namespace == "payments"',
      '!(conn.k8s.pod.metadata.name in ["a", "b"])',
      'conn.k8s.pod.metadata.annotations["k8s.ngrok.com/environment"] == "production"',
      'inCidrRanges(conn.client_ip, ["127.0.0.0/8", "bad"]) && conn.client_port > 1024',
      'conn.k8s.pod.metadata.name.matches("^worker-[a-z]+$") || size(conn.k8s.pod.metadata.annotations) > 2',
      'has(conn.k8s.pod.metadata.annotations.x) ? 1 / (conn.client_port - 40000) == 0 : false',
    ].map((s) => Buffer.from(s, 'utf8')),
  run(input) {
    const expression = Buffer.from(input).toString('utf8');
    const text = `on_tcp_connect:\n  - expressions:\n      - ${JSON.stringify(expression)}\n    actions:\n      - type: deny\n  - actions:\n      - type: close-connection\n`;
    check(text, loadPolicyFiles([{ path: FILE, text }]));
  },
};
