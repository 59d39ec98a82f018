import { describe, expect, it } from 'vitest';
import { startFakeK8sApi } from './index.js';

describe('fake API failWith', () => {
  it('answers every request with the status, then normally again', async () => {
    const api = await startFakeK8sApi();
    try {
      const get = () =>
        fetch(`${api.url}/api/v1/pods`, { headers: { authorization: `Bearer ${api.token}` } });
      api.failWith(500);
      const failing = await get();
      expect(failing.status).toBe(500);
      expect(await failing.json()).toMatchObject({ kind: 'Status', code: 500 });
      api.failWith(null);
      expect((await get()).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
