// Endpoint, internal and upstream URLs. Pure string rules; the loader places the errors.
import { parseIp } from '../net/ip.js';
import type { EndpointBinding, ForwardTarget, ParsedEndpointUrl } from '../types.js';

export type Scheme = ParsedEndpointUrl['scheme'];
export type UrlResult<T> = { ok: true; value: T } | { ok: false; message: string };

const DEFAULT_PORTS: Record<Scheme, number | undefined> = { http: 80, https: 443, tls: 443, tcp: undefined };
const SCHEMES = new Set<string>(['http', 'https', 'tcp', 'tls']);
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@\s]+)\/?$/;

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

export function isDnsName(host: string): boolean {
  return host.length <= 253 && host.split('.').every((label) => LABEL.test(label));
}

/** `scheme://host[:port]` with the scheme's default port; no path, query or user info. */
export function parseUrl(raw: string): UrlResult<ParsedEndpointUrl> {
  const text = raw.trim();
  const m = URL_SHAPE.exec(text);
  if (!m) {
    return fail(
      /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]+\/./.test(text)
        ? `URL '${raw}' must not have a path`
        : `'${raw}' is not a URL of the form scheme://host[:port]`,
    );
  }
  const scheme = m[1]!.toLowerCase();
  if (!SCHEMES.has(scheme))
    return fail(`unsupported scheme '${scheme}' in '${raw}' (use http, https, tcp or tls)`);
  let hostPort = m[2]!.toLowerCase();
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    host = hostPort.slice(1, close);
    portText = hostPort.slice(close + 1).replace(/^:/, '') || undefined;
    if (close < 0 || !parseIp(host) || !host.includes(':')) return fail(`bad IPv6 host in '${raw}'`);
  } else {
    const colon = hostPort.lastIndexOf(':');
    if (colon >= 0) {
      portText = hostPort.slice(colon + 1);
      hostPort = hostPort.slice(0, colon);
    }
    host = hostPort;
    if (!isDnsName(host) && !parseIp(host)) return fail(`'${host}' in '${raw}' is not a valid host name`);
  }
  let port = DEFAULT_PORTS[scheme as Scheme];
  if (portText !== undefined) {
    const n = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(n >= 1 && n <= 65535)) return fail(`bad port '${portText}' in '${raw}' (1-65535)`);
    port = n;
  }
  if (port === undefined) return fail(`'${raw}': ${scheme} URLs need a port`);
  const hostText = host.includes(':') ? `[${host}]` : host;
  return {
    ok: true,
    value: {
      href: `${scheme}://${hostText}${portText === undefined ? '' : `:${port}`}`,
      key: `${scheme}://${hostText}:${port}`,
      scheme: scheme as Scheme,
      host,
      port,
      explicitPort: portText !== undefined,
    },
  };
}

/** An endpoint's `spec.url` with its binding, from `spec.bindings` or the host. */
export function parseEndpointUrl(
  raw: string,
  bindings: readonly string[] | undefined,
): UrlResult<{ url: ParsedEndpointUrl; binding: EndpointBinding }> {
  const parsed = parseUrl(raw);
  if (!parsed.ok) return parsed;
  const url = parsed.value;
  if ((bindings?.length ?? 0) > 1) return fail('an endpoint takes at most one binding');
  const declared = bindings?.[0];
  if (
    declared !== undefined &&
    declared !== 'public' &&
    declared !== 'internal' &&
    declared !== 'kubernetes'
  ) {
    return fail(`unknown binding '${declared}' (use public, internal or kubernetes)`);
  }
  const internalHost = url.host.endsWith('.internal');
  if (declared === 'kubernetes') {
    const labels = url.host.split('.');
    if (url.scheme !== 'http' && url.scheme !== 'tcp') {
      return fail(`Kubernetes-bound URL '${raw}' must use http or tcp`);
    }
    if (labels.length !== 2 || internalHost) {
      return fail(
        `Kubernetes-bound URL '${raw}' must be ${url.scheme}://NAME.NAMESPACE${url.scheme === 'tcp' ? ':PORT' : '[:PORT]'}`,
      );
    }
    return { ok: true, value: { url, binding: 'kubernetes' } };
  }
  if (declared === 'internal' && !internalHost) return fail(`internal URL '${raw}' must end in .internal`);
  if (declared === 'public' && internalHost)
    return fail(`'${raw}' ends in .internal, so it cannot be public`);
  return { ok: true, value: { url, binding: internalHost ? 'internal' : 'public' } };
}

/** A forward-internal `url`: must be `.internal`. */
export function parseInternalUrl(raw: string): UrlResult<ParsedEndpointUrl> {
  const parsed = parseUrl(raw);
  if (!parsed.ok) return parsed;
  if (!parsed.value.host.endsWith('.internal')) {
    return fail(`forward-internal url '${raw}' must be an internal URL (its host ends in .internal)`);
  }
  return parsed;
}

/** `NAME.NAMESPACE.internal` -> the Kubernetes Service `NAME.NAMESPACE.svc.<clusterDomain>`. */
export function serviceFallback(url: ParsedEndpointUrl, clusterDomain: string): ForwardTarget | undefined {
  const labels = url.host.split('.');
  if (labels.length !== 3) return undefined;
  return {
    url: url.href,
    scheme: url.scheme,
    host: `${labels[0]}.${labels[1]}.svc.${clusterDomain}`,
    port: url.port,
  };
}

/** `spec.upstream.url`: `scheme://host[:port]`, `host:port`, or a bare port (localhost). */
export function parseUpstreamUrl(raw: string, proxyProtocolVersion?: 1 | 2): UrlResult<ForwardTarget> {
  const text = raw.trim();
  let candidate = text;
  if (/^[0-9]+$/.test(text)) candidate = `tcp://127.0.0.1:${text}`;
  else if (!text.includes('://')) candidate = `tcp://${text}`;
  const parsed = parseUrl(candidate);
  if (!parsed.ok) return fail(parsed.message.replace(candidate, raw));
  const { scheme, host, port } = parsed.value;
  const target: ForwardTarget = { url: text, scheme, host, port };
  if (proxyProtocolVersion !== undefined) target.proxyProtocolVersion = proxyProtocolVersion;
  return { ok: true, value: target };
}
