// What a policy action is. An evaluated action is one module holding its config schema, its
// compile step (at load), its evaluate step (per connection) and whether it ends evaluation,
// typed together by `evaluatedAction`; the loader and the evaluator know no action by name.
import type { Environment } from '@marcbachmann/cel-js';
import type { z } from 'zod';
import type { Activation } from '../cel/activation.js';
import type { DecisionErrorCode } from '../decision-codes.js';
import type { Place } from '../load/place.js';
import { describeIssue } from '../load/schemas.js';
import type { PathSegment } from '../load/yaml-source.js';
import type {
  ConnInfo,
  DecidingAction,
  ExpressionLimits,
  ForwardTarget,
  ParsedEndpointUrl,
} from '../types.js';

export const PHASES = ['on_tcp_connect', 'on_http_request', 'on_http_response'] as const;
export type Phase = (typeof PHASES)[number];
export const HTTP_PHASES: readonly Phase[] = ['on_http_request', 'on_http_response'];

/** What a compile step works with. */
export interface CompileSite {
  /** The action's `config`: errors go to `at` or `at.child([...])`. */
  at: Place;
  /** `config` as written: zod drops a record's `__proto__` key, so steps that keep keys read this. */
  raw: Record<string, unknown>;
  phase: Phase;
  /** The phase's CEL environment, for `${}` templates. */
  env: Environment;
  limits: ExpressionLimits;
  /** An internal URL to the upstream it stands for (endpoint table, then the Service fallback). */
  resolveInternal(url: ParsedEndpointUrl): ForwardTarget | undefined;
}

/** What an evaluate step works with: the connection, its CEL activation and the decision's logs. */
export interface ActionRun {
  readonly activation: Activation;
  readonly conn: ConnInfo;
  readonly logs: Array<Record<string, unknown>>;
}

export type RefusingAction = Extract<DecidingAction, 'deny' | 'close-connection' | 'restrict-ips'>;

/** What evaluating one action did: evaluation goes on, or it ends with a decision. */
export type Step =
  | { readonly kind: 'continue' }
  | { readonly kind: 'refuse'; readonly action: RefusingAction }
  | {
      readonly kind: 'forward';
      readonly target: ForwardTarget;
      /** on_error: continue: a failed forward (upstream unreachable) goes on with the later rules. */
      readonly continueOnError?: { readonly url: string };
    }
  | { readonly kind: 'fail'; readonly code: DecisionErrorCode; readonly message: string };

export const CONTINUE: Step = Object.freeze({ kind: 'continue' });

/** One action of one compiled rule: evaluating it is one call. */
export interface CompiledAction {
  readonly kind: string;
  /** Whether reaching it certainly ends evaluation (a CloudEndpoint's policy needs one). */
  readonly terminates: boolean;
  /** Whether it writes `vars.*` (evaluation then needs a vars object of its own). */
  readonly writesVars: boolean;
  /** May throw: the evaluator fails closed on any error. */
  run(run: ActionRun): Step;
  /** Where it forwards, when that is fixed at load (a dry-run endpoint's default target). */
  readonly fixedTarget?: ForwardTarget;
}

/**
 * The parts of an evaluated action, typed together: `C` is its parsed config (`H` in HTTP phases,
 * where it may differ), `R` its compiled form.
 */
export interface EvaluatedActionSpec<T extends string, C, R, H = C> {
  readonly type: T;
  /** Phases it is valid in. It is evaluated in on_tcp_connect; in HTTP phases loaded and checked. */
  readonly phases: readonly Phase[];
  readonly config: z.ZodType<C>;
  /** The config in HTTP phases, when it differs there (deny takes a status_code). */
  readonly httpConfig?: z.ZodType<H>;
  /** At load. Returns undefined only after reporting every problem through `site.at`. */
  compile(config: C | H, site: CompileSite): R | undefined;
  /** Whether this compiled action certainly ends evaluation when reached. */
  terminates(compiled: R): boolean;
  readonly writesVars: boolean;
  /** Per connection. */
  evaluate(compiled: R, run: ActionRun): Step;
  /** Where it forwards, when fixed at load. */
  fixedTarget?(compiled: R): ForwardTarget | undefined;
}

/** A registry entry: an action Podgate evaluates. */
export interface EvaluatedAction<T extends string = string> {
  readonly type: T;
  readonly support: 'evaluated';
  readonly phases: readonly Phase[];
  /** Parses `site.raw`, reports every problem, and binds the result to its evaluate step. */
  compile(site: CompileSite): CompiledAction | undefined;
}

/** A registry entry: an action Podgate refuses at load, with the reason. */
export interface RefusedAction<T extends string = string> {
  readonly type: T;
  readonly support: 'refused';
  readonly phases: readonly Phase[];
  readonly reason: string;
}

/** A registry entry: an action of a phase Podgate loads but never evaluates; its config must be a mapping. */
export interface CheckedOnlyAction<T extends string = string> {
  readonly type: T;
  readonly support: 'checked-only';
  readonly phases: readonly Phase[];
}

export type ActionModule = EvaluatedAction | RefusedAction | CheckedOnlyAction;

const SPEC_PARTS = [
  ['config', 'config schema', (v: unknown) => typeof (v as z.ZodType | undefined)?.safeParse === 'function'],
  ['compile', 'compile step', (v: unknown) => typeof v === 'function'],
  ['terminates', 'terminates step', (v: unknown) => typeof v === 'function'],
  ['evaluate', 'evaluate step', (v: unknown) => typeof v === 'function'],
  ['writesVars', 'writesVars flag', (v: unknown) => typeof v === 'boolean'],
] as const;

/**
 * Builds the registry entry of an evaluated action. The type system demands every part; a spec
 * that reaches here without one anyway (an `as`, plain JavaScript) throws when its module loads.
 */
export function evaluatedAction<const T extends string, C, R, H = C>(
  spec: EvaluatedActionSpec<T, C, R, H>,
): EvaluatedAction<T> {
  const missing = SPEC_PARTS.filter(([key, , ok]) => !ok(spec[key])).map(([, words]) => words);
  if (missing.length > 0) {
    throw new TypeError(
      `action module '${String(spec.type)}' is incomplete: it has no ${missing.join(', no ')}`,
    );
  }
  const { type, writesVars } = spec;
  return Object.freeze({
    type,
    support: 'evaluated',
    phases: Object.freeze([...spec.phases]),
    compile(site: CompileSite): CompiledAction | undefined {
      const schema: z.ZodType<C | H> =
        site.phase !== 'on_tcp_connect' && spec.httpConfig ? spec.httpConfig : spec.config;
      const config = parseConfig(schema, site);
      if (config === undefined) return undefined;
      const compiled = spec.compile(config.value, site);
      if (compiled === undefined) return undefined;
      const fixedTarget = spec.fixedTarget?.(compiled);
      return Object.freeze({
        kind: type,
        terminates: spec.terminates(compiled),
        writesVars,
        run: (run: ActionRun) => spec.evaluate(compiled, run),
        ...(fixedTarget !== undefined ? { fixedTarget } : {}),
      });
    },
  });
}

export function refusedAction<const T extends string>(
  entry: Omit<RefusedAction<T>, 'support'>,
): RefusedAction<T> {
  return Object.freeze({ ...entry, support: 'refused', phases: Object.freeze([...entry.phases]) });
}

export function checkedOnlyAction<const T extends string>(
  entry: Omit<CheckedOnlyAction<T>, 'support'>,
): CheckedOnlyAction<T> {
  return Object.freeze({ ...entry, support: 'checked-only', phases: Object.freeze([...entry.phases]) });
}

/** The parsed config (boxed: a config may parse to any value), or undefined with every issue reported. */
function parseConfig<C>(schema: z.ZodType<C>, site: CompileSite): { value: C } | undefined {
  const parsed = schema.safeParse(site.raw);
  if (parsed.success) return { value: parsed.data };
  for (const issue of parsed.error.issues) {
    const { message, path } = describeIssue(issue);
    site.at
      .child(path as PathSegment[])
      .error(`config${path.length ? `.${path.join('.')}` : ''}: ${message}`, {
        key: issue.code === 'unrecognized_keys',
      });
  }
  return undefined;
}
