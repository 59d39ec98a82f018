// The decision service's Prometheus metrics, on a registry of its own. Labels are bounded:
// endpoints come from the configuration, routes, outcomes, results and codes from closed
// sets. Children are cached per label set, and the per-request ones are runtime's plain
// counters and histograms, so a request costs a few additions (the text is built at scrape).
import type { ErrorCode } from '@podgate/errors';
import {
  createGauge,
  createPlainCounter,
  createPlainHistogram,
  type Gauge,
  type PlainCounter,
  type PlainHistogram,
  type Registry,
} from '@podgate/runtime';
import type { DecisionOutcome } from './decide.js';

/** The routes that decide. */
export type DecisionRoute = 'decisions' | 'forward_auth';

/** What a decision came to: the policy allowed or denied, or a dry-run endpoint let a refusal through. */
export type DecisionOutcomeLabel = 'allowed' | 'denied' | 'dry_run';

export function outcomeLabel(outcome: DecisionOutcome): DecisionOutcomeLabel {
  if (outcome.dryRun === 'deny') return 'dry_run';
  return outcome.allowed ? 'allowed' : 'denied';
}

export class DecisionMetrics {
  readonly registry: Registry;
  readonly storeReachable: Gauge;
  private readonly decisions: PlainCounter<'endpoint' | 'route' | 'outcome'>;
  private readonly dryRunRefusals: PlainCounter<'endpoint' | 'verdict'>;
  private readonly lookupSeconds: PlainHistogram<'result'>;
  private readonly errors: PlainCounter<'code'>;
  private readonly requestSeconds: PlainHistogram<'route'>;
  private readonly cache = new Map<string, unknown>();

  constructor(registry: Registry) {
    this.registry = registry;
    this.decisions = createPlainCounter(
      registry,
      'podgate_decision_decisions_total',
      'Decisions answered, by endpoint, route (decisions, forward_auth) and outcome (allowed, denied, dry_run: a dry-run endpoint let a refusal through).',
      ['endpoint', 'route', 'outcome'],
    );
    this.dryRunRefusals = createPlainCounter(
      registry,
      'podgate_decision_dry_run_refusals_total',
      'Requests a dry-run endpoint would have refused and allowed, by endpoint and the action that would have refused.',
      ['endpoint', 'verdict'],
    );
    this.lookupSeconds = createPlainHistogram(
      registry,
      'podgate_decision_lookup_duration_seconds',
      'Identity lookup time per decision, by result (found, not_found, ambiguous, stale_cluster, store_unavailable).',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      ['result'],
    );
    this.errors = createPlainCounter(
      registry,
      'podgate_decision_errors_total',
      'Error answers of the API, by code (docs/errors.md).',
      ['code'],
    );
    this.requestSeconds = createPlainHistogram(
      registry,
      'podgate_decision_request_duration_seconds',
      'Time from a request being routed to its answer, by route.',
      [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      ['route'],
    );
    this.storeReachable = createGauge(
      registry,
      'podgate_decision_store_reachable',
      '1 while the identity store answers lookups, 0 while it is unreachable (as /readyz reports).',
    );
  }

  private child<T>(key: string, make: () => T): T {
    let c = this.cache.get(key) as T | undefined;
    if (c === undefined) {
      c = make();
      this.cache.set(key, c);
    }
    return c;
  }

  decision(route: DecisionRoute, outcome: DecisionOutcome): void {
    const endpoint = outcome.endpoint.url.href;
    const label = outcomeLabel(outcome);
    this.child(`d\0${endpoint}\0${route}\0${label}`, () =>
      this.decisions.labels(endpoint, route, label),
    ).inc();
    if (label === 'dry_run') {
      const verdict = outcome.decision.action;
      this.child(`r\0${endpoint}\0${verdict}`, () => this.dryRunRefusals.labels(endpoint, verdict)).inc();
    }
    const result = outcome.lookup.ok ? 'found' : outcome.lookup.reason;
    this.child(`l\0${result}`, () => this.lookupSeconds.labels(result)).observe(outcome.lookupMs / 1000);
  }

  error(code: ErrorCode): void {
    this.child(`e\0${code}`, () => this.errors.labels(code)).inc();
  }

  request(route: string, seconds: number): void {
    this.child(`q\0${route}`, () => this.requestSeconds.labels(route)).observe(seconds);
  }
}
