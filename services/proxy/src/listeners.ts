// The proxy's listeners: one net.Server per endpoint it serves, each handing accepted sockets to
// the connection flow with the endpoint as it was configured at accept time. A reload swaps the
// endpoint a listener serves without closing it; endpoints added or removed open or close
// listeners; open connections keep the endpoint (and decision) they started with.
import net from 'node:net';
import type { CompiledEndpoint } from '@podgate/policy';
import { formatHostPort } from '@podgate/runtime';
import { type RawServer, type RawTcp, rawListen } from './raw-tcp.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** One endpoint to serve, where. */
export interface ListenerPlan {
  /** The endpoint's URL key (`scheme://host:port`): what identifies a listener across reloads. */
  key: string;
  endpoint: CompiledEndpoint;
  address: ListenAddress;
}

export interface BoundListener {
  key: string;
  endpoint: string;
  /** The address actually bound (port 0 resolved). */
  host: string;
  port: number;
}

/** An accepted connection: a `net.Socket`, or a raw handle (raw-tcp.ts) on a raw listener. */
export type AcceptFn = (conn: net.Socket | RawTcp, endpoint: CompiledEndpoint, listener: string) => void;

interface Entry {
  plan: ListenerPlan;
  server: net.Server | RawServer;
  label: string;
}

export class ListenerSet {
  private readonly entries = new Map<string, Entry>();
  /** The apply in progress: applies run one after another, so the last one called wins. */
  private applying: Promise<void> = Promise.resolve();
  /** Set by close(): a later apply (a reload finishing late) must not reopen anything. */
  private closed = false;

  /** raw: listen with raw handles (an IP host only; a name gets a net.Server). */
  constructor(
    private readonly accept: AcceptFn,
    private readonly raw = false,
  ) {}

  bound(): BoundListener[] {
    return [...this.entries.values()].map(({ plan, server }) => {
      const address = server.address() as { address: string; port: number };
      return { key: plan.key, endpoint: plan.endpoint.url.href, host: address.address, port: address.port };
    });
  }

  /**
   * Makes the set serve exactly `plans`: keeps listeners whose key and address are unchanged
   * (swapping their endpoint), opens new ones, closes the others. Opening is all-or-nothing:
   * when one new address cannot be bound, the ones opened by this call are closed again and
   * the previous set keeps serving.
   */
  apply(plans: readonly ListenerPlan[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    const run = this.applying.catch(() => {}).then(() => (this.closed ? undefined : this.applyNow(plans)));
    this.applying = run;
    return run;
  }

  private async applyNow(plans: readonly ListenerPlan[]): Promise<void> {
    const wanted = new Map(plans.map((p) => [p.key, p]));
    const opened: Entry[] = [];
    try {
      for (const plan of plans) {
        const current = this.entries.get(plan.key);
        if (current !== undefined && sameAddress(current.plan.address, plan.address)) continue;
        opened.push(await this.open(plan));
      }
    } catch (err) {
      await Promise.all(opened.map((e) => closeServer(e.server)));
      throw err;
    }
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      const plan = wanted.get(key);
      const replaced = opened.some((e) => e.plan.key === key);
      if (plan === undefined || replaced) {
        this.entries.delete(key);
        closing.push(closeServer(entry.server));
      } else {
        entry.plan = plan;
      }
    }
    for (const entry of opened) this.entries.set(entry.plan.key, entry);
    await Promise.all(closing);
  }

  /** Stops accepting on every listener (open connections are the caller's to drain). */
  async close(): Promise<void> {
    this.closed = true;
    // An apply in progress finishes first, so what it opened is closed here too.
    await this.applying.catch(() => {});
    const servers = [...this.entries.values()].map((e) => e.server);
    this.entries.clear();
    await Promise.all(servers.map(closeServer));
  }

  private open(plan: ListenerPlan): Promise<Entry> {
    if (this.raw && net.isIP(plan.address.host) !== 0) {
      const entry: Entry = { plan, server: null as never, label: '' };
      try {
        entry.server = rawListen(plan.address.host, plan.address.port, (conn) =>
          this.accept(conn, entry.plan.endpoint, entry.label),
        );
      } catch (err) {
        return Promise.reject(
          new Error(
            `cannot listen on ${formatHostPort(plan.address)} for ${plan.endpoint.url.href}: ${(err as Error).message}`,
            { cause: err },
          ),
        );
      }
      const address = entry.server.address() as { address: string; port: number };
      entry.label = formatHostPort({ host: address.address, port: address.port });
      return Promise.resolve(entry);
    }
    // allowHalfOpen: a client's FIN must not end our write side (splice.ts); no Nagle delay.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    const entry: Entry = { plan, server, label: '' };
    server.on('connection', (socket) => this.accept(socket, entry.plan.endpoint, entry.label));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        reject(
          new Error(
            `cannot listen on ${formatHostPort(plan.address)} for ${plan.endpoint.url.href}: ${err.message}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen({ host: plan.address.host, port: plan.address.port }, () => {
        server.removeListener('error', onError);
        const address = server.address() as net.AddressInfo;
        entry.label = formatHostPort({ host: address.address, port: address.port });
        resolve(entry);
      });
    });
  }
}

/** The same configured address (port 0 included: the listener already bound keeps serving). */
function sameAddress(a: ListenAddress, b: ListenAddress): boolean {
  return a.host === b.host && a.port === b.port;
}

/**
 * Stops accepting. Not awaiting 'close': it comes only once every connection the server
 * accepted has ended, and those are drained by the proxy, not here.
 */
function closeServer(server: net.Server | RawServer): Promise<void> {
  server.close();
  return Promise.resolve();
}
