// Compiled policy: what the loader produces and the evaluator walks. Built once per load.
import type { CompiledAction } from './actions/define.js';
import type { CelEndpoint } from './cel/activation.js';
import type { CompiledExpression } from './cel/compile.js';
import type { ForwardTarget } from './types.js';

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
