import { createRegistry } from '@podgate/runtime';
import { describe, expect, it } from 'vitest';
import type { ConnectionRecord } from './connection.js';
import { ProxyMetrics } from './metrics.js';

const EP = 'tcp://ledger.payments:5432';
const base: ConnectionRecord = {
  endpoint: EP,
  listener: '127.0.0.1:5432',
  client: { ip: '127.0.0.2', port: 40000, from: 'socket' },
  bytesFromClient: 0,
  bytesFromUpstream: 0,
  durationMs: 1,
  end: 'closed',
};

describe('proxy metrics', () => {
  it('counts connections, bytes, errors and open connections as a scrape reads them', async () => {
    const registry = createRegistry();
    let open = 3;
    const metrics = new ProxyMetrics(registry, () => open);
    metrics.record({ ...base, bytesFromClient: 10, bytesFromUpstream: 20, lookupMs: 0.4 });
    metrics.record({ ...base, bytesFromClient: 5, bytesFromUpstream: 0, lookupMs: 0.2 });
    metrics.record({ ...base, end: 'denied', lookupMs: 0.1 });
    metrics.record({ ...base, end: 'connect_refused', error: { code: 'connect_refused', message: 'no' } });
    let text = await registry.metrics();
    expect(text).toContain(`podgate_proxy_connections_total{endpoint="${EP}",outcome="forwarded"} 2`);
    expect(text).toContain(`podgate_proxy_connections_total{endpoint="${EP}",outcome="denied"} 1`);
    expect(text).toContain(`podgate_proxy_connections_total{endpoint="${EP}",outcome="failed"} 1`);
    expect(text).toContain(`podgate_proxy_bytes_total{endpoint="${EP}",direction="from_client"} 15`);
    expect(text).toContain(`podgate_proxy_bytes_total{endpoint="${EP}",direction="from_upstream"} 20`);
    expect(text).toContain('podgate_proxy_errors_total{code="connect_refused"} 1');
    expect(text).toContain(`podgate_proxy_lookup_duration_seconds_count{endpoint="${EP}"} 3`);
    expect(text).toContain('podgate_proxy_open_connections 3');
    // A second scrape reports totals, not what came since the last one.
    open = 0;
    metrics.record({ ...base, bytesFromClient: 1 });
    text = await registry.metrics();
    expect(text).toContain(`podgate_proxy_connections_total{endpoint="${EP}",outcome="forwarded"} 3`);
    expect(text).toContain(`podgate_proxy_bytes_total{endpoint="${EP}",direction="from_client"} 16`);
    expect(text).toContain('podgate_proxy_open_connections 0');
  });
});
