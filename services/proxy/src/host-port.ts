// `host:port` as people and tools read it: an IPv6 host in brackets (`[::1]:5000`), since a bare
// `::1:5000` cannot be split back into host and port. Listener labels, the upstream in log lines
// and connect errors all use it, so every address the proxy prints has the one form.
export function formatAddress(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
