// Compiled policy: what the loader produces and the evaluator walks. Built once per load.
import type { Activation, CelEndpoint } from './cel/activation.js';
import type { CompiledExpression } from './cel/compile.js';
import type { Template } from './load/interpolate.js';
import type { Cidr } from './net/ip.js';
import type { ForwardTarget } from './types.js';

/** A static value, or a string with `${}` to render per connection. */
export type Value = { template: Template } | { value: unknown };

export type ForwardResolution = { ok: true; target: ForwardTarget } | { ok: false; message: string };

export type CompiledAction =
  | { kind: 'deny' }
  | { kind: 'close-connection' }
  | {
      kind: 'forward-internal';
      /** Static targets are resolved at load; `${}` URLs per connection. */
      resolve(activation: Activation): ForwardResolution;
      onError: 'halt' | 'continue';
      url: string;
    }
  | { kind: 'log'; entries: Array<[string, Value]> }
  | { kind: 'restrict-ips'; enforce: boolean; allow: Cidr[]; deny: Cidr[] }
  | { kind: 'set-vars'; entries: Array<[string, Value]> };

export interface RuleRef {
  readonly index: number;
  readonly name?: string;
}

export interface CompiledRule {
  ref: RuleRef;
  expressions: CompiledExpression[];
  actions: CompiledAction[];
}

export interface CompiledTrafficPolicy {
  onTcpConnect: CompiledRule[];
  /** Whether some rule has an action that ends evaluation. */
  canTerminate: boolean;
  /** Whether any rule sets vars (so evaluation needs its own vars object). */
  setsVars: boolean;
}

/** What happens when no terminating action ran. */
export type Fallthrough = { kind: 'upstream'; target: ForwardTarget } | { kind: 'close' };

export interface EvaluationPlan {
  policy: CompiledTrafficPolicy | undefined;
  endpoint: CelEndpoint;
  fallthrough: Fallthrough;
}
