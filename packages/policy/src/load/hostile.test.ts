// Hostile configuration: every refusal is one clear diagnostic at file:line:col, in bounded time,
// and nothing a user writes (alias bombs, deep nesting, `__proto__` keys) reaches JS internals.
import { fileURLToPath } from 'node:url';
import { runInFreshNode } from '@podgate/test-support';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadPolicyFiles } from '../index.js';
import { input, pod } from '../test-support.js';

const deny = '\n  - actions:\n      - type: deny\n';

function aliasBomb(levels: number): string {
  let text = 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n';
  for (let i = 1; i < levels; i++)
    text += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(',')}]\n`;
  return `${text}on_tcp_connect:${deny}`;
}

const nestedKeys = (depth: number) =>
  `on_tcp_connect:\n  - actions:\n      - type: log\n        config:\n          metadata:\n${Array.from(
    { length: depth },
    (_, i) => `${' '.repeat(12 + 2 * i)}k${i}:`,
  ).join('\n')} x\n`;

const cases: Array<{ name: string; text: string; first: RegExp; line?: number; column?: number }> = [
  {
    name: 'alias bomb',
    text: aliasBomb(12),
    first: /aliases \(\*name\) are not supported/,
    line: 2,
    column: 10,
  },
  {
    name: 'merge key through an alias',
    text: `base: &b {type: deny}\non_tcp_connect:\n  - actions:\n      - <<: *b\n`,
    first: /aliases/,
    line: 4,
    column: 13,
  },
  {
    name: 'merge key written out',
    text: 'on_tcp_connect:\n  - actions:\n      - <<: {type: deny}\n',
    first: /unknown field '<<'/,
    line: 3,
    column: 9,
  },
  {
    name: 'deep flow nesting (parser recursion)',
    text: `on_tcp_connect: ${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    first: /^YAML: nesting is too deep \(the limit is 64 levels\)$/,
  },
  {
    name: 'deep block nesting',
    text: nestedKeys(70),
    first: /^YAML: nesting is too deep/,
    line: 66,
  },
  {
    name: 'file over the size limit',
    text: `on_tcp_connect:\n  - expressions:\n      - "${'a'.repeat(5 * 1024 * 1024)}"${deny}`,
    first: /^file is \d+ characters long; the limit is 4194304/,
    line: 1,
    column: 1,
  },
  {
    name: 'duplicate keys',
    text: 'on_tcp_connect: []\n"on_tcp_connect": []\n',
    first: /Map keys must be unique/,
    line: 2,
    column: 1,
  },
  {
    name: 'non-string key (sequence)',
    text: 'on_tcp_connect:\n  - actions:\n      - ? [a]\n        : deny\n        type: deny\n',
    first: /mapping keys must be plain strings/,
    line: 3,
  },
  {
    name: 'non-string key (boolean)',
    text: 'on_tcp_connect:\n  - actions:\n      - true: deny\n        type: deny\n',
    first: /mapping keys must be plain strings/,
    line: 3,
    column: 9,
  },
  {
    name: 'custom tag on a value',
    text: 'on_tcp_connect:\n  - actions:\n      - type: !foo deny\n',
    first: /unknown YAML tag '!foo'/,
    line: 3,
    column: 15,
  },
  {
    name: 'core-schema extension tag (!!binary) in an expression list',
    text: `on_tcp_connect:\n  - expressions:\n      - !!binary aGVsbG8=\n    actions:\n      - type: deny\n`,
    first: /unknown YAML tag 'tag:yaml.org,2002:binary'/,
    line: 3,
  },
  {
    name: '!!set',
    text: 'on_tcp_connect: !!set {a, b}\n',
    first: /unknown YAML tag 'tag:yaml.org,2002:set'/,
    line: 1,
  },
  ...['constructor', 'toString', '__proto__'].map((key) => ({
    name: `a phase named ${key} (not mistaken for a legacy phase)`,
    text: `${key}: []\non_tcp_connect:${deny}`,
    first: new RegExp(
      `^${key}: unknown phase '${key}' \\(use on_tcp_connect, on_http_request, on_http_response\\)$`,
    ),
    line: 1,
    column: 1,
  })),
  ...['constructor', '__proto__'].map((type) => ({
    name: `an action type named ${type}`,
    text: `on_tcp_connect:\n  - actions:\n      - type: ${type}\n`,
    first: new RegExp(`unknown action type '${type}' \\(valid in on_tcp_connect: close-connection,`),
    line: 3,
    column: 15,
  })),
  {
    name: 'set-vars named __proto__',
    text: 'on_tcp_connect:\n  - actions:\n      - type: set-vars\n        config:\n          vars:\n            - __proto__: x\n      - type: deny\n',
    first: /'__proto__' cannot be a variable name/,
    line: 6,
    column: 15,
  },
  {
    name: 'set-vars named constructor',
    text: 'on_tcp_connect:\n  - actions:\n      - type: set-vars\n        config:\n          vars:\n            - constructor: x\n      - type: deny\n',
    first: /'constructor' cannot be a variable name/,
    line: 6,
  },
  {
    name: 'log metadata __proto__ with a non-scalar value (zod skips that key)',
    text: 'on_tcp_connect:\n  - actions:\n      - type: log\n        config:\n          metadata:\n            __proto__: {polluted: true}\n      - type: deny\n',
    first: /config\.metadata\.__proto__: must be a string, number or boolean/,
    line: 6,
  },
  {
    name: 'regex literal with a backreference (RE2 refuses)',
    text: `on_tcp_connect:\n  - expressions:\n      - conn.client_ip.matches("(a)\\\\1")\n    actions:\n      - type: deny\n`,
    first: /invalid regular expression/,
    line: 3,
    column: 32,
  },
  {
    name: 'regex literal with an exploding repeat',
    text: `on_tcp_connect:\n  - expressions:\n      - conn.client_ip.matches("((a{1000}){1000}){1000}")\n    actions:\n      - type: deny\n`,
    first: /invalid repeat count/,
    line: 3,
  },
  {
    name: 'a lone surrogate escape in an expression',
    text: `on_tcp_connect:\n  - expressions:\n      - 'conn.client_ip == "\\ud800"'\n    actions:\n      - type: deny\n`,
    first: /syntax error: Invalid Unicode surrogate/,
    line: 3,
  },
];

describe('hostile policy files are refused clearly', () => {
  it.each(cases)('$name', ({ text, first, line, column }) => {
    const started = performance.now();
    const result = loadPolicyFiles([{ path: 'hostile.yaml', text }]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const d = result.errors[0]!;
    expect(d.message).toMatch(first);
    expect(formatDiagnostic(d)).toMatch(/^hostile\.yaml:\d+:\d+: error: /);
    if (line !== undefined) expect(d.line).toBe(line);
    if (column !== undefined) expect(d.column).toBe(column);
    // A refused stack overflow is said once, not once per open level.
    expect(result.errors.filter((e) => /nesting is too deep/.test(e.message)).length).toBeLessThanOrEqual(1);
  });

  it('deep flow nesting loaded again and again: refused each time, the process lives', () => {
    // Left to the parser, this overflowed its stack each time, and by the fourth or fifth
    // time V8 died compiling a regex near the overflow (a fatal error, not an exception).
    const text = `on_tcp_connect: ${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    for (let i = 0; i < 10; i++) {
      const result = loadPolicyFiles([{ path: 'deep.yaml', text }]);
      expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([
        'deep.yaml:1:82: error: YAML: nesting is too deep (the limit is 64 levels)',
      ]);
    }
  });

  it('deep block nesting in a fresh process: refused where it starts, the process lives', () => {
    // `- ` opens a block level every two characters. Left to the parser, 2 KB of it killed a
    // fresh Node.js outright (V8's "RegExpCompiler Allocation failed - process out of memory"
    // near the stack overflow), which no in-process test sees once the regexes are compiled.
    const index = fileURLToPath(new URL('../index.ts', import.meta.url));
    const code = `
      const { loadPolicyFiles, formatDiagnostic } = await import(${JSON.stringify(index)});
      const texts = [
        '- '.repeat(1000) + 'a\\n',
        'on_tcp_connect:\\n' + '- '.repeat(200000) + 'a\\n',
        Array.from({ length: 1500 }, (_, i) => ' '.repeat(i) + (i % 2 ? '- ' : 'k: ')).join('\\n') + 'v\\n',
      ];
      for (const text of texts) {
        const r = loadPolicyFiles([{ path: 'deep.yaml', text }]);
        console.log(r.ok ? 'loaded' : r.errors.map(formatDiagnostic).join(' | '));
      }`;
    const run = runInFreshNode(code);
    expect(run.stderr).not.toMatch(/FATAL|out of memory/);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      // Where the parser holds more levels open than 64 below the root (and the document, and
      // the scalar being read).
      'deep.yaml:1:133: error: YAML: nesting is too deep (the limit is 64 levels)',
      'deep.yaml:2:131: error: YAML: nesting is too deep (the limit is 64 levels)',
      expect.stringMatching(
        /^deep\.yaml:\d+:\d+: error: YAML: nesting is too deep \(the limit is 64 levels\)$/,
      ),
    ]);
  });

  it("the parser's own stack overflow, past a caller's much larger limit: one error, not a throw", () => {
    // Block sequences inside a flow collection: the parser builds them, and closes all of them
    // recursively at the `]` (a RangeError thrown from the parser itself).
    const text = `[\n${'- '.repeat(20_000)}a]\n`;
    const result = loadPolicyFiles([{ path: 'deep.yaml', text }], { maxYamlDepth: 1_000_000 });
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([
      'deep.yaml:2:40002: error: YAML: nesting is too deep (the limit is 1000000 levels)',
    ]);
  });

  it("many distinct keys: linear time (the parser's own unique-key check compared each key with every earlier one)", () => {
    // 20,000 keys (210 KB): 6.5 s with that check, under a second without it.
    const text = Array.from({ length: 20_000 }, (_, i) => `k${i}: 0\n`).join('');
    const started = performance.now();
    const result = loadPolicyFiles([{ path: 'keys.yaml', text }]);
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(result.ok).toBe(false);
  });

  it('a number and a string of the same text are one key (one property of the value)', () => {
    const result = loadPolicyFiles([{ path: 'p.yaml', text: 'on_tcp_connect: []\n1: a\n"1": b\n' }]);
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([
      'p.yaml:3:1: error: YAML: Map keys must be unique',
    ]);
  });

  it('limits are options', () => {
    const text = nestedKeys(70);
    const deeper = loadPolicyFiles([{ path: 'p.yaml', text }], { maxYamlDepth: 100 });
    expect(deeper.ok ? [] : deeper.errors.map((e) => e.message)).not.toContainEqual(
      expect.stringMatching(/nesting is too deep/),
    );
    expect(
      loadPolicyFiles([{ path: 'p.yaml', text: `on_tcp_connect:${deny}` }], { maxFileCharacters: 10 }).ok,
    ).toBe(false);
  });
});

describe('prototype keys are plain data', () => {
  it('log metadata keeps __proto__ and constructor as ordinary entries', () => {
    const text =
      'on_tcp_connect:\n  - actions:\n      - type: log\n        config:\n          metadata:\n            __proto__: polluted\n            constructor: c\n            toString: t\n      - type: deny\n';
    const result = loadPolicyFiles([{ path: 'p.yaml', text }]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const decision = result.config.policies[0]!.evaluateTcpConnect(input(pod()));
    const entry = decision.logs[0]!;
    expect(Object.keys(entry)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(JSON.parse(JSON.stringify(entry))).toStrictEqual(
      JSON.parse('{"__proto__":"polluted","constructor":"c","toString":"t"}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('metadata and annotations of a CRD may hold __proto__ without polluting anything', () => {
    const text = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata:
  name: ep
  __proto__: {polluted: true}
  annotations: {__proto__: x, constructor: y}
spec:
  url: http://a.b
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
        - actions:
            - type: deny
`;
    const result = loadPolicyFiles([{ path: 'p.yaml', text }]);
    expect(result.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
