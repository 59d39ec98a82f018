// loadPolicyFiles: all files together (a targetRef or forward-internal may point into another
// file), two passes: read every document, then compile policies against the endpoint table.
import { ACTIONS, type ActionTable } from '../actions/registry.js';
import { CelEndpoint } from '../cel/activation.js';
import { DEFAULT_LIMITS } from '../cel/compile.js';
import { DiagnosticSink, SourcePositions } from '../diagnostics.js';
import { evaluateTcpConnect } from '../evaluate.js';
import type { CompiledTrafficPolicy, EvaluationPlan, Fallthrough } from '../model.js';
import type {
  CompiledEndpoint,
  CompiledPolicy,
  Diagnostic,
  ExpressionLimits,
  ForwardTarget,
  LoadedFileSummary,
  LoadOptions,
  LoadResult,
  ParsedEndpointUrl,
  RuleSummary,
} from '../types.js';
import {
  at,
  DRY_RUN_ANNOTATION,
  type EndpointDef,
  type FileState,
  type Located,
  type PolicyDef,
  readDocument,
} from './documents.js';
import { compileTrafficPolicy, type PolicyContext } from './policy.js';
import { parseUrl, serviceFallback } from './urls.js';
import { DEFAULT_YAML_LIMITS, type Path, parseYamlFile, type YamlLimits } from './yaml-source.js';

export function loadPolicyFiles(
  files: Array<{ path: string; text: string }>,
  options: LoadOptions = {},
): LoadResult {
  return loadPolicyFilesWith(ACTIONS, files, options);
}

/** loadPolicyFiles with another action table: how tests prove a broken action module cannot load. */
export function loadPolicyFilesWith(
  actions: ActionTable,
  files: Array<{ path: string; text: string }>,
  options: LoadOptions = {},
): LoadResult {
  const limits: ExpressionLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const clusterDomain = options.clusterDomain ?? 'cluster.local';
  const yamlLimits: YamlLimits = {
    maxFileCharacters: options.maxFileCharacters ?? DEFAULT_YAML_LIMITS.maxFileCharacters,
    maxDepth: options.maxYamlDepth ?? DEFAULT_YAML_LIMITS.maxDepth,
  };
  const states: FileState[] = [];
  const endpoints: EndpointDef[] = [];
  const policies: PolicyDef[] = [];

  for (const file of files) {
    const positions = new SourcePositions(file.path, file.text);
    const state: FileState = {
      path: file.path,
      sink: new DiagnosticSink(positions),
      positions,
      endpoints: 0,
      policies: 0,
    };
    states.push(state);
    for (const doc of parseYamlFile(file.text, state.sink, yamlLimits))
      readDocument({ file: state, doc }, endpoints, policies);
  }

  // The endpoint table, for findEndpoint and forward-internal.
  const byUrl = new Map<string, EndpointDef>();
  for (const ep of endpoints) {
    const other = byUrl.get(ep.url.key);
    if (other) {
      ep.file.sink.error(
        at(ep, ['spec', 'url']),
        `url ${ep.url.href} is also used by ${other.kind} ${other.namespace}/${other.name} (${other.file.path})`,
      );
    } else byUrl.set(ep.url.key, ep);
  }
  const resolveInternal = (url: ParsedEndpointUrl): ForwardTarget | undefined => {
    const ep = byUrl.get(url.key);
    if (ep) return ep.upstream;
    return serviceFallback(url, clusterDomain);
  };

  const compile = (loc: Located, value: unknown, base: Path): CompiledTrafficPolicy | undefined => {
    const ctx: PolicyContext = { doc: loc.doc, sink: loc.file.sink, base, limits, resolveInternal, actions };
    return compileTrafficPolicy(value, ctx);
  };

  // A forward-internal target that is itself a CloudEndpoint would chain policies; not supported.
  for (const ep of endpoints) {
    if (ep.binding === 'internal' && ep.kind === 'CloudEndpoint' && !ep.upstream) byUrl.delete(ep.url.key);
  }

  const compiledPolicies: CompiledPolicy[] = [];
  for (const def of policies) {
    def.compiled = compile(def, def.value, def.base);
    if (def.compiled && def.kind === 'TrafficPolicy' && !def.compiled.canTerminate) {
      def.file.sink.error(
        at(def, def.base),
        'this policy never ends in a terminating action (deny, close-connection or forward-internal)',
      );
      def.compiled = undefined;
    }
    if (!def.compiled) continue;
    const plan: EvaluationPlan = {
      policy: def.compiled,
      endpoint: new CelEndpoint('', def.name, def.namespace, '', 0n, '', '', def.kind),
      fallthrough: { kind: 'close' },
    };
    compiledPolicies.push({
      kind: def.kind,
      name: def.name,
      namespace: def.namespace,
      source: { file: def.file.path, line: def.file.positions.at(def.doc.start).line },
      rules: summarize(def.compiled),
      evaluateTcpConnect: (input) => evaluateTcpConnect(plan, input),
    });
  }

  const compiledEndpoints: CompiledEndpoint[] = [];
  for (const ep of endpoints) {
    let policy: CompiledTrafficPolicy | undefined;
    if (ep.policy && 'inline' in ep.policy) {
      policy = compile(ep, ep.policy.inline, ep.policy.base);
      if (!policy) continue;
    } else if (ep.policy) {
      const name = ep.policy.ref;
      const target = policies.find(
        (p) => p.kind === 'NgrokTrafficPolicy' && p.name === name && p.namespace === ep.namespace,
      );
      if (!target) {
        ep.file.sink.error(
          at(ep, ep.policy.base),
          `trafficPolicy.targetRef: no NgrokTrafficPolicy named '${name}' in namespace '${ep.namespace}'`,
        );
        continue;
      }
      if (!target.compiled) continue; // its own errors are reported in its file
      policy = target.compiled;
    }
    if (ep.kind === 'CloudEndpoint' && !policy?.canTerminate) {
      ep.file.sink.error(
        at(ep, ep.policy?.base ?? ['spec']),
        `CloudEndpoint ${ep.name}: its traffic policy never ends in a terminating action (deny, close-connection or forward-internal), so no connection could go anywhere`,
      );
      continue;
    }
    const fallthrough: Fallthrough = ep.upstream
      ? { kind: 'upstream', target: ep.upstream }
      : { kind: 'close' };
    const plan: EvaluationPlan = {
      policy,
      endpoint: new CelEndpoint(
        ep.url.href,
        ep.name,
        ep.namespace,
        ep.url.host,
        BigInt(ep.url.port),
        ep.url.scheme,
        ep.binding,
        ep.kind,
      ),
      fallthrough,
    };
    const compiled: CompiledEndpoint = {
      kind: ep.kind,
      name: ep.name,
      namespace: ep.namespace,
      url: ep.url,
      binding: ep.binding,
      source: { file: ep.file.path, line: ep.file.positions.at(ep.doc.start).line },
      hasPolicy: policy !== undefined,
      dryRun: ep.dryRun,
      rules: summarize(policy),
      evaluateTcpConnect: (input) => evaluateTcpConnect(plan, input),
    };
    if (ep.upstream) compiled.upstream = ep.upstream;
    if (ep.dryRun) {
      const target = ep.upstream ?? firstFixedTarget(policy);
      if (target === undefined) {
        ep.file.sink.error(
          at(ep, ['metadata', 'annotations', DRY_RUN_ANNOTATION]),
          `${ep.kind} ${ep.name}: a dry-run endpoint lets refused connections through, so it needs a fixed place to send them: an upstream, or a forward-internal with a URL fixed at load`,
        );
        continue;
      }
      compiled.dryRunTarget = target;
    }
    compiledEndpoints.push(compiled);
  }

  const errors: Diagnostic[] = states.flatMap((s) => s.sink.errors);
  const warnings: Diagnostic[] = states.flatMap((s) => s.sink.warnings);
  if (errors.length > 0) return { ok: false, errors, warnings };

  const findEndpoint = (raw: string) => {
    const parsed = parseUrl(raw);
    if (!parsed.ok) return undefined;
    return compiledEndpoints.find((e) => e.url.key === parsed.value.key);
  };
  const summaries: LoadedFileSummary[] = states.map((s) => ({
    path: s.path,
    endpoints: s.endpoints,
    policies: s.policies,
  }));
  return {
    ok: true,
    config: { endpoints: compiledEndpoints, findEndpoint, policies: compiledPolicies },
    warnings,
    files: summaries,
  };
}

/** The first forward-internal target of on_tcp_connect that is fixed at load. */
function firstFixedTarget(policy: CompiledTrafficPolicy | undefined): ForwardTarget | undefined {
  for (const rule of policy?.onTcpConnect ?? []) {
    for (const action of rule.actions) if (action.fixedTarget !== undefined) return action.fixedTarget;
  }
  return undefined;
}

function summarize(policy: CompiledTrafficPolicy | undefined): RuleSummary[] {
  return (policy?.onTcpConnect ?? []).map((rule) => ({
    ...rule.ref,
    expressions: rule.expressions.map((e) => e.source),
    actions: rule.actions.map((a) => a.kind),
  }));
}
