import { describe, expect, it } from 'vitest';
import { parseEndpointUrl, parseUpstreamUrl, parseUrl, serviceFallback } from './urls.js';

describe('endpoint URLs', () => {
  it.each([
    ['http://svc.ns', ['kubernetes'], 'kubernetes', 'http://svc.ns:80'],
    ['tcp://svc.ns:5432', ['kubernetes'], 'kubernetes', 'tcp://svc.ns:5432'],
    ['https://example-hostname.ngrok.io', undefined, 'public', 'https://example-hostname.ngrok.io:443'],
    ['tls://db.internal', undefined, 'internal', 'tls://db.internal:443'],
    ['HTTP://Svc.NS:8080/', ['kubernetes'], 'kubernetes', 'http://svc.ns:8080'],
  ])('%s %j -> %s', (url, bindings, binding, key) => {
    const r = parseEndpointUrl(url, bindings);
    expect(r.ok && { binding: r.value.binding, key: r.value.url.key }).toEqual({ binding, key });
  });

  it.each([
    ['tcp://svc.ns', ['kubernetes'], /need a port/],
    ['https://svc.ns', ['kubernetes'], /must use http or tcp/],
    ['http://a.b.c', ['kubernetes'], /NAME.NAMESPACE/],
    ['ftp://svc.ns', undefined, /unsupported scheme/],
    ['http://svc.ns/path', undefined, /must not have a path/],
    ['http://svc.ns:70000', undefined, /bad port/],
    ['http://under_score.ns', undefined, /not a valid host/],
    ['http://svc.ns', ['kubernetes', 'public'], /at most one binding/],
    ['http://svc.ns', ['internal'], /must end in .internal/],
  ])('%s %j refused', (url, bindings, message) => {
    const r = parseEndpointUrl(url, bindings);
    expect(r.ok ? '' : r.message).toMatch(message);
  });

  it('upstream URL forms', () => {
    expect(parseUpstreamUrl('8080')).toEqual({
      ok: true,
      value: { url: '8080', scheme: 'tcp', host: '127.0.0.1', port: 8080 },
    });
    expect(parseUpstreamUrl('svc.ns:9000', 2)).toMatchObject({
      ok: true,
      value: { host: 'svc.ns', port: 9000, proxyProtocolVersion: 2 },
    });
    expect(parseUpstreamUrl('https://[::1]')).toMatchObject({ ok: true, value: { host: '::1', port: 443 } });
  });

  it('Service fallback needs NAME.NAMESPACE.internal', () => {
    const ok = parseUrl('tcp://redis.cache.internal:6379');
    const bad = parseUrl('http://foo.internal');
    if (!ok.ok || !bad.ok) throw new Error('parse');
    expect(serviceFallback(ok.value, 'cluster.local')).toMatchObject({
      host: 'redis.cache.svc.cluster.local',
      port: 6379,
    });
    expect(serviceFallback(bad.value, 'cluster.local')).toBeUndefined();
  });
});
