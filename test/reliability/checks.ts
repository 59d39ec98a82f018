// Judging what the clients saw against the oracle (world.ts) and the policy (stack.ts). Every
// exchange is counted; every failure is counted by kind and the first few kept as examples for
// the report. The two failures that matter most for a security boundary:
// - misattributed: an identity that was not the client IP's pod at the time (or not its name);
// - refusedAllowed: a client let through that the policy refuses (by the oracle's truth, not
//   by what the proxy believed).
import type { LogLine, UpstreamArrival } from '@podgate/test-support';
import type { HttpExchange, ProxyExchange } from './clients.js';
import { SchedulerLag } from './lag.js';
import { type EndpointName, LOOKUP_TIMEOUT_MS, policyAllows } from './stack.js';
import type { Timeline } from './timeline.js';
import { ALLOWED_NAMESPACE, type World } from './world.js';

/** How late an identity may be (the watcher's event-to-store delay, on a loaded machine). */
export const LAG_MS = 2_000;
/**
 * A proxy lookup's own time (its log line's lookup_ms) may pass the deadline by this much, plus
 * the test process's own timer lateness around it: the proxy's timers run late on a starved
 * machine too (seen: 775 ms for a 200 ms deadline at a load average of 15 on 2 cores). A lookup
 * that waits for a store command's timeout (5 s) or forever is still caught.
 */
export const DEADLINE_MARGIN_MS = 600;
/** A client's whole exchange during a store fault: the deadline plus connection set-up and a loaded machine. */
export const CLIENT_MARGIN_MS = 3_000;

export interface Counts {
  proxyConnections: number;
  proxyAllowed: number;
  proxyDenied: number;
  proxyUpstreamFailed: number;
  proxyClientErrors: number;
  decisions: number;
  decisionsAllowed: number;
  forwardAuth: number;
  forwardAuthAllowed: number;
  httpErrors: number;
  /** Requests with no answer within the client's timeout (a starved machine); nothing decided, nothing to judge. */
  clientTimeouts: number;
  identitiesChecked: number;
  misattributed: number;
  refusedAllowed: number;
  policyMismatch: number;
  verdictMismatch: number;
  deadlineMisses: number;
  unknownWhileOwned: number;
  unknownDuringFaults: number;
  /** Lookups past their deadline outside faults (a loaded machine); decided as unknown clients. */
  lookupTimeouts: number;
  /** stale_cluster outside faults while this process's timers ran more than 1 s late. */
  staleWhileStarved: number;
  unmatchedLogLines: number;
  unmatchedExchanges: number;
  upstreamArrivals: number;
  upstreamWithoutAllow: number;
  /** Outside faults: how late the latest identity seen was (0: the pod owned the IP at the lookup). */
  maxStaleMs: number;
  maxStaleMsInFaults: number;
  /** Identities seen later than LAG_MS after their pod let go of the IP, within a fault's bound. */
  staleWithinFaultBound: number;
  maxLookupMs: number;
}

export function emptyCounts(): Counts {
  return {
    proxyConnections: 0,
    proxyAllowed: 0,
    proxyDenied: 0,
    proxyUpstreamFailed: 0,
    proxyClientErrors: 0,
    decisions: 0,
    decisionsAllowed: 0,
    forwardAuth: 0,
    forwardAuthAllowed: 0,
    httpErrors: 0,
    clientTimeouts: 0,
    identitiesChecked: 0,
    misattributed: 0,
    refusedAllowed: 0,
    policyMismatch: 0,
    verdictMismatch: 0,
    deadlineMisses: 0,
    unknownWhileOwned: 0,
    unknownDuringFaults: 0,
    lookupTimeouts: 0,
    staleWhileStarved: 0,
    unmatchedLogLines: 0,
    unmatchedExchanges: 0,
    upstreamArrivals: 0,
    upstreamWithoutAllow: 0,
    maxStaleMs: 0,
    maxStaleMsInFaults: 0,
    staleWithinFaultBound: 0,
    maxLookupMs: 0,
  };
}

interface Identity {
  id: string;
  name: string;
  namespace: string;
}

interface Pending {
  endpoint: EndpointName;
  exchange?: ProxyExchange;
  log?: LogLine;
}

export class Checker {
  readonly counts = emptyCounts();
  readonly examples: Array<Record<string, unknown>> = [];
  /** The fault in progress (and its recovery): identities may be unknown, or late by its bound. */
  private fault: { name: string; since: number; extraLagMs: number } | null = null;
  private readonly faultSpans: Array<{ name: string; from: number; to: number; extraLagMs: number }> = [];
  /** Proxy exchanges and log lines, joined by client ip:port. */
  private readonly pending = new Map<string, Pending[]>();
  /** Upstream arrivals per endpoint, matched against allowed log lines at the end. */
  private readonly arrivals = new Map<string, { endpoint: EndpointName; at: number }[]>();
  private readonly allowedKeys = new Map<string, number>();

  /** Deadline checks allow for the machine's scheduling delay around each exchange. */
  readonly lag = new SchedulerLag();

  /** `timeline`: what the heartbeat and the watchers did, told in each misattribution's example. */
  constructor(
    private readonly world: World,
    private readonly timeline?: Timeline,
  ) {
    this.lag.start();
  }

  /** The deadline margin for an exchange within [start, end]: the fixed one plus the machine's lateness then. */
  private margin(base: number, start: number, end: number): number {
    return base + this.lag.maxWithin(start - 1_000, end);
  }

  /**
   * A fault begins. `extraLagMs`: how much later than usual the store may learn of a change
   * while it lasts, by design (a silent watch is noticed after the idle timeout; an API that
   * fails stops the heartbeat after the grace, and readers drop the claims a TTL later).
   */
  beginFault(name: string, extraLagMs = 0): void {
    this.fault = { name, since: performance.now(), extraLagMs };
  }

  endFault(): void {
    if (this.fault === null) return;
    const { name, since, extraLagMs } = this.fault;
    this.faultSpans.push({ name, from: since, to: performance.now(), extraLagMs });
    this.fault = null;
  }

  /** The faults that overlap [start - LAG_MS, end] (the one in progress included). */
  private faultsAround(start: number, end: number): Array<{ name: string; extraLagMs: number }> {
    const found = this.faultSpans.filter((f) => f.from <= end && f.to >= start - LAG_MS);
    return this.fault === null ? found : [...found, this.fault];
  }

  /**
   * How late the store may be for an exchange within [start, end]: the usual lag, a fault's
   * bound, and the machine's scheduling delay over the time the change had to travel (a
   * starved watcher forwards an event late; that is not a wrong identity).
   */
  private lagFor(start: number, end: number): number {
    const fault = Math.max(0, ...this.faultsAround(start, end).map((f) => f.extraLagMs));
    return LAG_MS + fault + this.lag.maxWithin(start - LAG_MS - fault - 5_000, end);
  }

  private inFault(start: number, end: number): boolean {
    return this.faultsAround(start, end).length > 0;
  }

  private fail(kind: keyof Counts, detail: Record<string, unknown>): void {
    (this.counts[kind] as number)++;
    // A few of each kind, so that a rare kind is not hidden behind a common one.
    if (this.examples.filter((e) => e.kind === kind).length < 5) this.examples.push({ kind, ...detail });
  }

  /** A found identity for `ip` seen within [start, end]: the pod that owned it then, by uid, name and namespace. */
  private checkIdentity(ip: string, who: Identity, start: number, end: number, via: string): void {
    this.counts.identitiesChecked++;
    const faults = this.faultsAround(start, end);
    const lag = this.lagFor(start, end);
    const judged = this.world.judge(ip, who.id, who.name, who.namespace, start, end, lag);
    if (Number.isFinite(judged.staleMs)) {
      const stale = Math.round(judged.staleMs);
      if (faults.length === 0) this.counts.maxStaleMs = Math.max(this.counts.maxStaleMs, stale);
      else this.counts.maxStaleMsInFaults = Math.max(this.counts.maxStaleMsInFaults, stale);
      if (stale > LAG_MS && judged.ok) this.counts.staleWithinFaultBound++;
    }
    if (!judged.ok) {
      this.fail('misattributed', {
        via,
        ip,
        identity: who,
        staleMs: judged.staleMs,
        allowedLagMs: lag,
        faults: faults.map((f) => f.name),
        // ms relative to the lookup's start; from before the pod let go of the IP.
        ...(this.timeline !== undefined
          ? { timeline: this.timeline.around(start - judged.staleMs - 6_000, end, start) }
          : {}),
      });
    }
  }

  /**
   * No identity for `ip` within [start, end]: fine during a fault, or while the IP's owner
   * changed. Outside faults, a lookup past its deadline (store_unavailable: the store or this
   * service's event loop too slow, on a loaded machine) is counted apart: the policy still
   * decides it as an unknown client, which is what the deadline is for.
   */
  private checkUnknown(
    ip: string,
    reason: string | undefined,
    start: number,
    end: number,
    via: string,
  ): void {
    if (this.inFault(start, end)) {
      this.counts.unknownDuringFaults++;
      return;
    }
    if (reason === 'store_unavailable') {
      this.counts.lookupTimeouts++;
      return;
    }
    // The cluster seen as stale while the machine was starved for seconds: a heartbeat written
    // or read late (the TTL is 5 s here), and the policy decides an unknown client, as designed.
    if (reason === 'stale_cluster' && this.lag.maxWithin(start - 10_000, end) > 1_000) {
      this.counts.staleWhileStarved++;
      return;
    }
    const owner = this.world.stableOwner(ip, start, end, LAG_MS);
    if (owner !== null && owner !== 'changing')
      this.fail('unknownWhileOwned', { via, ip, owner: owner.name });
  }

  /** Truth, independent of what the service believed: was the client one the policy lets through? */
  private checkTruth(endpoint: EndpointName, ip: string, start: number, end: number, via: string): void {
    if (endpoint !== 'ledger') return; // fail-open: an unknown client passes, so only the log can say
    const lag = this.lagFor(start, end);
    if (!this.world.ownedByNamespace(ip, ALLOWED_NAMESPACE, start, end, lag)) {
      const faults = this.faultsAround(start, end).map((f) => f.name);
      this.fail('refusedAllowed', { via, endpoint, ip, allowedLagMs: lag, faults });
    }
  }

  proxyExchange(endpoint: EndpointName, exchange: ProxyExchange): void {
    this.counts.proxyConnections++;
    if (exchange.port === 0) {
      // The connect itself failed: nothing was decided (the proxy was not there?).
      this.fail('proxyClientErrors', { endpoint, ip: exchange.ip, error: exchange.error });
      return;
    }
    this.join(`${exchange.ip}:${exchange.port}`, endpoint, { exchange });
  }

  proxyLogLine(line: LogLine): void {
    if (line.msg !== 'connection') return;
    const client = line.client as { ip: string; port: number };
    const endpoint: EndpointName = line.endpoint === 'tcp://ledger.payments:5432' ? 'ledger' : 'status';
    // Kept until the end (settle pairs them): only what the judgement reads.
    const slim: LogLine = {
      time: line.time,
      duration_ms: line.duration_ms,
      lookup_ms: line.lookup_ms,
      end: line.end,
      error: line.error,
      decision: line.decision,
    };
    if (slim.decision !== undefined) {
      const d = slim.decision as Record<string, unknown>;
      slim.decision = { allowed: d.allowed, identity: d.identity, lookup: d.lookup };
    }
    this.join(`${client.ip}:${client.port}`, endpoint, { log: slim });
  }

  /**
   * Collects one side of a proxied connection; `settle` pairs them. Two connections can share a
   * client ip:port one after the other (loopback reuses a port in TIME_WAIT at once), and the
   * proxy may log the first after the second (it learns late that the client left), so pairs
   * are made at the end, in order of start: the client's, and the proxy's accept time (its log
   * line's time less its duration). Connections with one address pair never overlap.
   */
  private join(key: string, endpoint: EndpointName, part: Omit<Pending, 'endpoint'>): void {
    const k = `${endpoint} ${key}`;
    const queue = this.pending.get(k) ?? [];
    queue.push({ endpoint, ...part });
    this.pending.set(k, queue);
  }

  private pairAll(): void {
    for (const [k, queue] of this.pending) {
      const key = k.slice(k.indexOf(' ') + 1);
      const startOf = (p: Pending) =>
        p.exchange
          ? performance.timeOrigin + p.exchange.start
          : Number(p.log!.time) - Number(p.log!.duration_ms ?? 0);
      const exchanges = queue.filter((p) => p.exchange).sort((a, b) => startOf(a) - startOf(b));
      const logs = queue.filter((p) => p.log).sort((a, b) => startOf(a) - startOf(b));
      const n = Math.min(exchanges.length, logs.length);
      for (let i = 0; i < n; i++) {
        this.judgeConnection(key, exchanges[i]!.endpoint, exchanges[i]!.exchange!, logs[i]!.log!);
      }
      for (const p of exchanges.slice(n)) {
        this.fail('unmatchedExchanges', { key, endpoint: p.endpoint, exchange: p.exchange });
      }
      for (const p of logs.slice(n)) this.fail('unmatchedLogLines', { key, endpoint: p.endpoint });
    }
    this.pending.clear();
  }

  private judgeConnection(key: string, endpoint: EndpointName, exchange: ProxyExchange, log: LogLine): void {
    const decision = log.decision as
      | {
          allowed: boolean;
          identity: { id: string; metadata: { name: string; namespace: string } };
          lookup: { found: boolean; reason?: string };
        }
      | undefined;
    if (decision === undefined) {
      this.fail('verdictMismatch', { via: 'proxy', key, why: 'no decision in the log line', end: log.end });
      return;
    }
    const { ip, start, end } = exchange;
    const lookupMs = Number(log.lookup_ms ?? 0);
    this.counts.maxLookupMs = Math.max(this.counts.maxLookupMs, lookupMs);
    const allowedMs = LOOKUP_TIMEOUT_MS + this.margin(DEADLINE_MARGIN_MS, start, end);
    if (lookupMs > allowedMs) {
      this.fail('deadlineMisses', { via: 'proxy', key, lookupMs, allowedMs: Math.round(allowedMs) });
    }
    const found = decision.identity.id !== '';
    if (found) {
      const { name, namespace } = decision.identity.metadata;
      this.checkIdentity(ip, { id: decision.identity.id, name, namespace }, start, end, 'proxy');
    } else {
      this.checkUnknown(ip, decision.lookup.reason, start, end, `proxy:${decision.lookup.reason}`);
    }
    const expected = policyAllows(endpoint, found ? decision.identity.metadata.namespace : null);
    if (decision.allowed !== expected) this.fail('policyMismatch', { via: 'proxy', key, endpoint, decision });
    if (decision.allowed) {
      this.counts.proxyAllowed++;
      this.allowedKeys.set(`${endpoint} ${key}`, (this.allowedKeys.get(`${endpoint} ${key}`) ?? 0) + 1);
      if (found || endpoint === 'ledger') this.checkTruth(endpoint, ip, start, end, 'proxy');
      if (!exchange.echoed) {
        // The client gave up waiting (a stalled upstream, or a starved machine), or the upstream failed.
        if (exchange.timedOut) this.counts.clientTimeouts++;
        else
          this.fail('proxyUpstreamFailed', {
            key,
            end: log.end,
            error: log.error,
            durationMs: log.duration_ms,
          });
      }
    } else {
      this.counts.proxyDenied++;
      // A refused client must get nothing back: the echo would mean the upstream saw it.
      if (exchange.echoed) this.fail('verdictMismatch', { via: 'proxy', key, why: 'denied but echoed' });
    }
    if (exchange.error !== undefined && exchange.echoed) this.counts.proxyClientErrors++;
  }

  upstreamArrival(endpoint: EndpointName, arrival: UpstreamArrival): void {
    this.counts.upstreamArrivals++;
    if (arrival.clientIp === null) {
      this.fail('upstreamWithoutAllow', { endpoint, why: 'no PROXY header' });
      return;
    }
    const key = `${arrival.clientIp}:${arrival.clientPort}`;
    const list = this.arrivals.get(key) ?? [];
    list.push({ endpoint, at: arrival.at });
    this.arrivals.set(key, list);
    // At the fail-closed upstream, the truth alone: a payments pod owned that IP just before.
    this.checkTruth(endpoint, arrival.clientIp, arrival.at - 1_000, arrival.at, 'upstream');
  }

  decisionAnswer(endpoint: EndpointName, ip: string, answer: HttpExchange): void {
    this.counts.decisions++;
    if (answer.error === 'timeout') {
      this.counts.clientTimeouts++;
      return;
    }
    if (answer.status !== 200) {
      this.fail('httpErrors', {
        via: 'decision',
        status: answer.status,
        error: answer.error,
        body: answer.body.slice(0, 200),
      });
      return;
    }
    const body = JSON.parse(answer.body) as {
      allowed: boolean;
      identity: { id: string; metadata: { name: string; namespace: string } };
      lookup: { found: boolean; reason?: string };
    };
    const found = body.identity.id !== '';
    if (found) {
      const { name, namespace } = body.identity.metadata;
      this.checkIdentity(ip, { id: body.identity.id, name, namespace }, answer.start, answer.end, 'decision');
    } else {
      this.checkUnknown(ip, body.lookup.reason, answer.start, answer.end, `decision:${body.lookup.reason}`);
      this.checkClientTime('decision', answer);
    }
    if (body.allowed !== policyAllows(endpoint, found ? body.identity.metadata.namespace : null)) {
      this.fail('policyMismatch', { via: 'decision', endpoint, ip, body });
    }
    if (body.allowed) {
      this.counts.decisionsAllowed++;
      if (found || endpoint === 'ledger') this.checkTruth(endpoint, ip, answer.start, answer.end, 'decision');
    }
  }

  forwardAuthAnswer(endpoint: EndpointName, ip: string, answer: HttpExchange): void {
    this.counts.forwardAuth++;
    if (answer.status === 403) {
      // Deny: the answer names no identity (on purpose); the policy's side is checked by decisions.
      return;
    }
    if (answer.error === 'timeout') {
      this.counts.clientTimeouts++;
      return;
    }
    if (answer.status !== 200) {
      this.fail('httpErrors', { via: 'forward-auth', status: answer.status, error: answer.error });
      return;
    }
    this.counts.forwardAuthAllowed++;
    const id = String(answer.headers['x-podgate-pod-id'] ?? '');
    const name = String(answer.headers['x-podgate-pod-name'] ?? '');
    const namespace = String(answer.headers['x-podgate-pod-namespace'] ?? '');
    if (id !== '') this.checkIdentity(ip, { id, name, namespace }, answer.start, answer.end, 'forward-auth');
    else this.checkClientTime('forward-auth', answer);
    if (!policyAllows(endpoint, id !== '' ? namespace : null)) {
      this.fail('policyMismatch', { via: 'forward-auth', endpoint, ip, id, namespace });
    }
    if (id !== '' || endpoint === 'ledger')
      this.checkTruth(endpoint, ip, answer.start, answer.end, 'forward-auth');
  }

  /** An answer without identity during a store fault still comes within the lookup deadline (plus a margin). */
  private checkClientTime(via: string, answer: HttpExchange): void {
    const took = answer.end - answer.start;
    const allowedMs = LOOKUP_TIMEOUT_MS + this.margin(CLIENT_MARGIN_MS, answer.start, answer.end);
    if (took > allowedMs)
      this.fail('deadlineMisses', { via, tookMs: Math.round(took), allowedMs: Math.round(allowedMs) });
  }

  /**
   * After every process has stopped (its log flushed): exchanges with no log line, and
   * upstream arrivals no allowed log line accounts for.
   */
  settle(): void {
    this.pairAll();
    this.lag.stop();
    for (const [key, list] of this.arrivals) {
      for (const a of list) {
        const k = `${a.endpoint} ${key}`;
        const left = this.allowedKeys.get(k) ?? 0;
        if (left > 0) this.allowedKeys.set(k, left - 1);
        else this.fail('upstreamWithoutAllow', { key, endpoint: a.endpoint });
      }
    }
    this.arrivals.clear();
  }
}
