import type { LookupResult } from '@podgate/identity';
import type { CompiledEndpoint, Decision, PodVars } from '@podgate/policy';
import { describe, expect, it } from 'vitest';
import { type DecisionOutcome, decisionAnswer } from './decide.js';
import { decisionLogFields, decisionLogLine } from './log-line.js';

const pod: PodVars = {
  id: 'u-1',
  name: 'worker "1"',
  namespace: 'payments',
  annotations: { 'k8s.ngrok.com/environment': 'prod\u2028\n' },
  cluster: 'c',
  errorCode: '',
  errorMessage: '',
};
const decision: Decision = { allowed: false, action: 'deny', logs: [], vars: {} };
const lookup: LookupResult = { ok: false, reason: 'not_found', message: 'no pod' } as LookupResult;

function outcome(extra: Partial<DecisionOutcome> = {}): DecisionOutcome {
  return {
    endpoint: { url: { href: 'tcp://ledger.payments:5432' } } as CompiledEndpoint,
    clientIp: '10.0.0.1',
    decision,
    lookup,
    pod,
    lookupMs: 0.123456,
    allowed: false,
    ...extra,
  };
}

describe('decisionLogFields', () => {
  const cases: Array<[string, DecisionOutcome, string | undefined]> = [
    ['a plain deny', outcome(), undefined],
    ['a request id', outcome(), 'req-1'],
    ['a dry-run allow', outcome({ allowed: true, dryRun: 'deny' }), 'abc/def=='],
    ['a lookup time that is not finite', outcome({ lookupMs: Number.NaN }), undefined],
    [
      'an endpoint URL that needs escaping',
      outcome({ endpoint: { url: { href: 'http://a"b\\c' } } as CompiledEndpoint }),
      undefined,
    ],
  ];
  for (const [what, o, requestId] of cases) {
    it(`is the JSON text of decisionLogLine's object, key order included: ${what}`, () => {
      const client = { ip: '10.0.0.1', port: 5, from: 'x-forwarded-for' as const };
      const peer = { ip: '127.0.0.1', port: 40000 };
      const answer = decisionAnswer(o);
      const fields = decisionLogFields('forward_auth', o, client, peer, requestId, JSON.stringify(answer));
      const object = decisionLogLine('forward_auth', o, client, peer, requestId, answer);
      expect(`{${fields}}`).toBe(JSON.stringify(object));
      expect(JSON.parse(`{${fields}}`)).toEqual(JSON.parse(JSON.stringify(object)));
    });
  }
});
