import { describe, expect, it } from 'vitest';
import type { LookupResult } from './model.js';
import { podVarsFromLookup } from './pod-vars.js';

describe('podVarsFromLookup', () => {
  it('exposes a found identity with an empty error code', () => {
    const result: LookupResult = {
      ok: true,
      identity: {
        cluster: 'prod',
        uid: 'u1',
        name: 'web-0',
        namespace: 'payments',
        annotations: { 'k8s.ngrok.com/environment': 'production' },
        errorCode: '',
        errorMessage: '',
      },
    };
    expect(podVarsFromLookup(result)).toEqual({
      id: 'u1',
      name: 'web-0',
      namespace: 'payments',
      annotations: { 'k8s.ngrok.com/environment': 'production' },
      cluster: 'prod',
      errorCode: '',
      errorMessage: '',
    });
  });

  it('keeps ERR_NGROK_28000 next to the truncated map', () => {
    const vars = podVarsFromLookup({
      ok: true,
      identity: {
        cluster: 'c',
        uid: 'u',
        name: 'n',
        namespace: 'ns',
        annotations: { 'k8s.ngrok.com/a': 'b' },
        errorCode: 'ERR_NGROK_28000',
        errorMessage: 'Pod identity metadata too large: annotations exceed the 1024-byte limit (2000 bytes)',
      },
    });
    expect(vars.errorCode).toBe('ERR_NGROK_28000');
    expect(vars.annotations).toEqual({ 'k8s.ngrok.com/a': 'b' });
  });

  it.each(['not_found', 'ambiguous', 'store_unavailable', 'stale_cluster'] as const)(
    'a missing identity (%s) reads as empty strings, an empty map and ERR_NGROK_28001',
    (reason) => {
      expect(
        podVarsFromLookup({ ok: false, errorCode: 'ERR_NGROK_28001', reason, message: `because ${reason}` }),
      ).toEqual({
        id: '',
        name: '',
        namespace: '',
        annotations: {},
        cluster: '',
        errorCode: 'ERR_NGROK_28001',
        errorMessage: `Failed to retrieve pod identity metadata: because ${reason}`,
      });
    },
  );
});
