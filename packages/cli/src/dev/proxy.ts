// `podgate dev`'s proxy: the real proxy service on the embedded store, every endpoint it would
// serve bound to 127.0.0.1 on a port of the system's choosing (no root needed for port 80),
// no admin server, connection lines only at debug.
import type { IdentityReader } from '@podgate/identity';
import type { PolicyConfig } from '@podgate/policy';
import { type ProxyService, parseProxyConfig, startProxyService } from '@podgate/proxy';
import type { Logger, SignalSource } from '@podgate/runtime';

export function devBinds(config: PolicyConfig): string[] {
  return config.endpoints.filter((e) => e.binding === 'kubernetes').map((e) => `${e.url.href}=127.0.0.1:0`);
}

export async function startDevProxy(options: {
  configPaths: readonly string[];
  config: PolicyConfig;
  store: IdentityReader;
  cluster: string;
  logger: Logger;
  signals?: SignalSource;
}): Promise<ProxyService> {
  const parsed = parseProxyConfig({
    configFiles: [...options.configPaths],
    binds: devBinds(options.config),
    listen: '127.0.0.1:0',
    drainTimeoutMs: '2s',
    // A laptop needs no 10,000 connections; this many fit any open-file limit worth having.
    maxConnections: 1000,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return startProxyService(
    { ...parsed.config, listen: null },
    {
      store: options.store,
      clusters: [options.cluster],
      logger: options.logger,
      ...(options.signals !== undefined ? { signals: options.signals } : {}),
    },
  );
}
