// The embedded store keeps each pod's claim frozen, so every lookup that finds a pod shares one
// identity and one policy view of it (what is derived from them is derived once); a change to
// the pod is a new claim, never the old identity; and the caller's record stays its own.
import { describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from './memory-store.js';
import { podVarsFromLookup } from './pod-vars.js';
import { record } from './store.contract.js';

describe('shared identities (embedded store)', () => {
  it('shares one frozen identity and view per pod, and a changed pod gets new ones', async () => {
    const store = new MemoryIdentityStore();
    await store.heartbeat('a', 60_000);
    const mine = record('uid-1', ['10.0.0.1'], '5');
    await store.reconcile('a', [mine]);
    // The caller's record is not frozen or shared: the store copied what it keeps.
    mine.annotations['k8s.ngrok.com/later'] = 'x';
    const one = await store.lookup('10.0.0.1', ['a']);
    const again = await store.lookup('10.0.0.1', ['a']);
    if (!one.ok || !again.ok) throw new Error('not found');
    expect(again.identity).toBe(one.identity);
    expect(one.identity.annotations).toEqual({ 'k8s.ngrok.com/environment': 'production' });
    const view = podVarsFromLookup(one);
    expect(podVarsFromLookup(again)).toBe(view);
    expect(Object.isFrozen(view) && Object.isFrozen(view.annotations)).toBe(true);
    expect(() => {
      (view.annotations as Record<string, string>)['k8s.ngrok.com/x'] = 'y';
    }).toThrow(TypeError);

    await store.claim('a', record('uid-1', ['10.0.0.1'], '6', { namespace: 'web' }));
    const changed = await store.lookup('10.0.0.1', ['a']);
    expect(changed.ok && changed.identity).toMatchObject({ uid: 'uid-1', namespace: 'web' });
    expect(podVarsFromLookup(changed).namespace).toBe('web');
    expect(view.namespace).toBe('payments');
  });

  it('gives a lookup of an identity nobody shares its own copy of the annotations', () => {
    const annotations = { 'k8s.ngrok.com/a': '1' };
    const identity = {
      cluster: 'a',
      uid: 'u',
      name: 'n',
      namespace: 's',
      annotations,
      errorCode: '' as const,
      errorMessage: '',
    };
    const view = podVarsFromLookup({ ok: true, identity });
    expect(view.annotations).toEqual(annotations);
    expect(view.annotations).not.toBe(annotations);
    expect(podVarsFromLookup({ ok: true, identity })).not.toBe(view);
  });
});
