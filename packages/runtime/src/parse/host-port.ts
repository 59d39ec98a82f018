// HOST:PORT as flags take it: `0.0.0.0:9464`, `[::1]:9464` (IPv6 in brackets), `:9464`
// (the default host, where one is allowed), `redis-0.redis:6379`; and comma-separated
// lists of them (Redis Cluster seeds). Canonical form: IPv6 hosts in brackets.
import { z } from 'zod';

export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s,]*)):(\d{1,5})$/;

export interface HostPortOptions {
  /** The host of `:PORT`; without it, a host is required. */
  defaultHost?: string;
  /** Lowest port accepted. Default 0 (let the system pick one). */
  minPort?: number;
}

/** `{host, port}`, or null when `text` is not HOST:PORT. */
export function parseHostPort(text: string, options: HostPortOptions = {}): HostPort | null {
  const match = HOST_PORT.exec(text.trim());
  if (match === null) return null;
  const port = Number(match[3]);
  if (port > 65535 || port < (options.minPort ?? 0)) return null;
  const host = match[1] ?? match[2] ?? '';
  if (host !== '') return { host, port };
  return options.defaultHost === undefined ? null : { host: options.defaultHost, port };
}

/** `h1:p1,h2:p2`; null when any entry is not HOST:PORT (ports 1-65535) or the list is empty. */
export function parseHostPortList(text: string): HostPort[] | null {
  const nodes = text.split(',').map((part) => parseHostPort(part, { minPort: 1 }));
  if (nodes.length === 0 || nodes.some((node) => node === null)) return null;
  return nodes as HostPort[];
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A zod field: HOST:PORT text of `flag` (e.g. `--listen`), as `{host, port}`. */
export function hostPortSchema(flag: string, options: HostPortOptions & { example: string }) {
  return z.string().transform((text, ctx) => {
    const parsed = parseHostPort(text, options);
    if (parsed === null) {
      ctx.addIssue({ code: 'custom', message: `${flag}: expected HOST:PORT (e.g. ${options.example})` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A zod field: `host:port[,host:port...]` text of `flag`, as a list. */
export function hostPortListSchema(flag: string) {
  return z.string().transform((text, ctx) => {
    const parsed = parseHostPortList(text);
    if (parsed === null) {
      ctx.addIssue({ code: 'custom', message: `${flag}: expected host:port[,host:port...]` });
      return z.NEVER;
    }
    return parsed;
  });
}
