// A steady, bounded load from loopback clients: proxy connections and decision requests at a
// fixed rate, each from (or for) a random address of the pod pool (owned or free), with at most
// `maxInFlight` of each kind open at once (a tick that would pass it skips, and counts the
// skip). Every outcome goes to the checker. Stops launching on stop(), then waits for what is
// in flight (each exchange has its own timeout).
import type { Checker } from './checks.js';
import { forwardAuth, postDecision, proxyExchange } from './clients.js';
import { ENDPOINT_URL, type EndpointName, type Stack } from './stack.js';
import type { World } from './world.js';

export interface LoadOptions {
  /** Proxy connections per second. */
  proxyRate: number;
  /** Decision service requests per second (half POST /v1/decisions, half forward-auth). */
  decisionRate: number;
  maxInFlight: number;
  timeoutMs: number;
}

const TICK_MS = 20;

export class Load {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private launched = { proxy: 0, decision: 0 };
  private readonly inFlight = { proxy: new Set<Promise<void>>(), decision: new Set<Promise<void>>() };
  skipped = 0;

  constructor(
    private readonly stack: Stack,
    private readonly world: World,
    private readonly checker: Checker,
    private readonly options: LoadOptions,
  ) {}

  start(): void {
    this.startedAt = performance.now();
    this.launched = { proxy: 0, decision: 0 };
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight.proxy, ...this.inFlight.decision]);
  }

  /** Total launched so far, of both kinds. */
  get total(): number {
    return this.launched.proxy + this.launched.decision;
  }

  private tick(): void {
    const elapsed = (performance.now() - this.startedAt) / 1000;
    this.launch('proxy', Math.floor(elapsed * this.options.proxyRate));
    this.launch('decision', Math.floor(elapsed * this.options.decisionRate));
  }

  private launch(kind: 'proxy' | 'decision', due: number): void {
    // A tick late by a lot (a busy machine) launches at most a second's worth, not a burst.
    const rate = kind === 'proxy' ? this.options.proxyRate : this.options.decisionRate;
    if (due - this.launched[kind] > rate) this.launched[kind] = due - rate;
    while (this.launched[kind] < due) {
      this.launched[kind]++;
      if (this.inFlight[kind].size >= this.options.maxInFlight) {
        this.skipped++;
        continue;
      }
      const task =
        kind === 'proxy' ? this.oneConnection(this.launched[kind]) : this.oneDecision(this.launched[kind]);
      const settled = task.finally(() => this.inFlight[kind].delete(settled));
      this.inFlight[kind].add(settled);
    }
  }

  private pick(): { ip: string; endpoint: EndpointName } {
    const ips = this.world.ips;
    return {
      ip: ips[Math.floor(Math.random() * ips.length)]!,
      endpoint: Math.random() < 0.5 ? 'ledger' : 'status',
    };
  }

  private async oneConnection(seq: number): Promise<void> {
    const { ip, endpoint } = this.pick();
    const exchange = await proxyExchange(
      this.stack.proxyPort[endpoint],
      ip,
      `hello ${seq} from ${ip}\n`,
      this.options.timeoutMs,
    );
    this.checker.proxyExchange(endpoint, exchange);
  }

  private async oneDecision(seq: number): Promise<void> {
    const { ip, endpoint } = this.pick();
    const url = ENDPOINT_URL[endpoint];
    if (seq % 2 === 0) {
      const answer = await postDecision(this.stack.decisionPort, url, ip, this.options.timeoutMs);
      this.checker.decisionAnswer(endpoint, ip, answer);
    } else {
      const answer = await forwardAuth(this.stack.decisionPort, url, ip, this.options.timeoutMs);
      this.checker.forwardAuthAnswer(endpoint, ip, answer);
    }
  }
}
