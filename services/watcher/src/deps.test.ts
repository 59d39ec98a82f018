import { podObject } from '@podgate/test-support';
import { expect, it } from 'vitest';
import { recordDeriver } from './deps.js';
import { keyOf, PodView } from './sync/pod-view.js';

const derive = recordDeriver();

it('a record whose name had to be cut carries its uncut key; others carry none', () => {
  const real = derive(podObject({ name: 'n'.repeat(255), namespace: 'apps', ip: '127.0.0.2' }));
  const long = derive(podObject({ name: 'n'.repeat(256), namespace: 'apps', ip: '127.0.0.3' }));
  expect(real.uncutKey).toBeUndefined();
  expect(long.name).toBe(real.name); // cut to the same 255 bytes
  expect(long.ips).toEqual([]);
  expect(long.uncutKey).toBe(keyOf('apps', 'n'.repeat(256)));
});

it('through the view, the over-long pod does not cost the real one its identity', () => {
  const view = new PodView();
  const real = derive({
    ...podObject({ name: 'n'.repeat(255), namespace: 'apps', ip: '127.0.0.2' }),
    metadata: { name: 'n'.repeat(255), namespace: 'apps', uid: 'u-real', resourceVersion: '5' },
  });
  const long = derive({
    ...podObject({ name: 'n'.repeat(256), namespace: 'apps' }),
    metadata: { name: 'n'.repeat(256), namespace: 'apps', uid: 'u-long', resourceVersion: '6' },
  });
  view.upsert(real);
  expect(view.upsert(long).outcome).toBe('claimed');
  expect(view.get('u-real')?.ips).toEqual(['127.0.0.2']);
});
