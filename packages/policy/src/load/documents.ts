// The first pass of loading: one YAML document into an endpoint or a policy definition, with
// the envelope (apiVersion, kind, metadata, spec) checked. Policies are compiled later, against
// the table of every endpoint of every file.
import type { DiagnosticSink, SourcePositions } from '../diagnostics.js';
import type { CompiledTrafficPolicy } from '../model.js';
import type { EndpointBinding, ForwardTarget, ParsedEndpointUrl } from '../types.js';
import {
  API_VERSION,
  agentEndpointSpec,
  cloudEndpointSpec,
  describeIssue,
  envelope,
  ngrokTrafficPolicySpec,
} from './schemas.js';
import { parseEndpointUrl, parseUpstreamUrl } from './urls.js';
import { type Path, type PathSegment, type SourceDoc, spanOf } from './yaml-source.js';

const KINDS = ['AgentEndpoint', 'CloudEndpoint', 'NgrokTrafficPolicy'];
const PHASE_KEYS = ['on_tcp_connect', 'on_http_request', 'on_http_response', 'inbound', 'outbound'];

export interface FileState {
  path: string;
  sink: DiagnosticSink;
  positions: SourcePositions;
  endpoints: number;
  policies: number;
}

export interface Located {
  file: FileState;
  doc: SourceDoc;
}

/** Evaluate and log, but let every connection through (docs/policy.md, "Dry-run rollout"). */
export const DRY_RUN_ANNOTATION = 'podgate.io/dry-run';

export interface EndpointDef extends Located {
  kind: 'AgentEndpoint' | 'CloudEndpoint';
  name: string;
  namespace: string;
  url: ParsedEndpointUrl;
  binding: EndpointBinding;
  upstream?: ForwardTarget;
  /** `podgate.io/dry-run: "true"`. */
  dryRun: boolean;
  /** Inline policy and where it sits, or a reference by name. */
  policy?: { inline: unknown; base: Path } | { ref: string; base: Path };
}

export interface PolicyDef extends Located {
  kind: 'NgrokTrafficPolicy' | 'TrafficPolicy';
  name: string;
  namespace: string;
  value: unknown;
  base: Path;
  compiled?: CompiledTrafficPolicy;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function at(loc: Located, path: Path, key = false): number {
  const span = spanOf(loc.doc, path);
  return key && span.keyStart !== undefined ? span.keyStart : span.start;
}

function reportIssues(
  loc: Located,
  base: PathSegment[],
  issues: Parameters<typeof describeIssue>[0][],
  prefix: string,
): void {
  for (const issue of issues) {
    const { message, path } = describeIssue(issue);
    const full = [...base, ...(path as PathSegment[])];
    const where = [prefix, ...(path as PathSegment[]).map(String)].filter(Boolean).join('.');
    loc.file.sink.error(
      at(loc, full, issue.code === 'unrecognized_keys'),
      `${where ? `${where}: ` : ''}${message}`,
    );
  }
}

export function readDocument(loc: Located, endpoints: EndpointDef[], policies: PolicyDef[]): void {
  const { doc, file } = loc;
  const value = doc.value;
  if (!isObject(value)) {
    file.sink.error(
      doc.start,
      'expected a mapping: an AgentEndpoint, CloudEndpoint, NgrokTrafficPolicy or a bare traffic policy',
    );
    return;
  }
  if (
    !('kind' in value) &&
    !('apiVersion' in value) &&
    Object.keys(value).some((k) => PHASE_KEYS.includes(k))
  ) {
    file.policies++;
    policies.push({
      ...loc,
      kind: 'TrafficPolicy',
      name: `${file.path}#${doc.index + 1}`,
      namespace: '',
      value,
      base: [],
    });
    return;
  }
  if (typeof value.kind === 'string' && !KINDS.includes(value.kind)) {
    file.sink.error(
      at(loc, ['kind']),
      `unknown kind '${value.kind}' (supported: ${KINDS.join(', ')}, or a bare traffic policy)`,
    );
    return;
  }
  if (value.apiVersion !== API_VERSION && typeof value.kind === 'string') {
    file.sink.error(
      at(loc, ['apiVersion'], value.apiVersion === undefined),
      `apiVersion must be ${API_VERSION}`,
    );
    return;
  }
  const env = envelope.safeParse(value);
  if (!env.success) {
    reportIssues(loc, [], env.error.issues, '');
    return;
  }
  const { kind, metadata, spec } = env.data;
  const namespace = metadata.namespace ?? 'default';
  if (kind === 'NgrokTrafficPolicy') {
    const parsed = ngrokTrafficPolicySpec.safeParse(spec);
    if (!parsed.success) {
      reportIssues(loc, ['spec'], parsed.error.issues, 'spec');
      return;
    }
    file.policies++;
    policies.push({
      ...loc,
      kind,
      name: metadata.name,
      namespace,
      value: parsed.data.policy,
      base: ['spec', 'policy'],
    });
    return;
  }
  const schema = kind === 'AgentEndpoint' ? agentEndpointSpec : cloudEndpointSpec;
  const parsed = schema.safeParse(spec);
  if (!parsed.success) {
    reportIssues(loc, ['spec'], parsed.error.issues, 'spec');
    return;
  }
  const data = parsed.data as {
    url: string;
    bindings?: string[];
    upstream?: { url: string; proxyProtocolVersion?: '1' | '2' | 1 | 2 };
    trafficPolicy?: { inline?: unknown; policy?: unknown; targetRef?: { name: string } };
    trafficPolicyName?: string;
  };
  const url = parseEndpointUrl(data.url, data.bindings);
  if (!url.ok) {
    file.sink.error(at(loc, ['spec', 'url']), `spec.url: ${url.message}`);
    return;
  }
  const dryRunValue = metadata.annotations?.[DRY_RUN_ANNOTATION];
  if (dryRunValue !== undefined && dryRunValue !== 'true' && dryRunValue !== 'false') {
    file.sink.error(
      at(loc, ['metadata', 'annotations', DRY_RUN_ANNOTATION]),
      `metadata.annotations.${DRY_RUN_ANNOTATION}: must be "true" or "false", got ${JSON.stringify(dryRunValue)}`,
    );
    return;
  }
  const def: EndpointDef = {
    ...loc,
    kind: kind as EndpointDef['kind'],
    name: metadata.name,
    namespace,
    dryRun: dryRunValue === 'true',
    ...url.value,
  };
  if (data.upstream) {
    const version =
      data.upstream.proxyProtocolVersion === undefined
        ? undefined
        : (Number(data.upstream.proxyProtocolVersion) as 1 | 2);
    const upstream = parseUpstreamUrl(data.upstream.url, version);
    if (!upstream.ok) {
      file.sink.error(at(loc, ['spec', 'upstream', 'url']), `spec.upstream.url: ${upstream.message}`);
      return;
    }
    def.upstream = upstream.value;
  }
  const tp = data.trafficPolicy;
  const forms = tp ? (['inline', 'policy', 'targetRef'] as const).filter((k) => tp[k] !== undefined) : [];
  if (forms.length > 1) {
    file.sink.error(
      at(loc, ['spec', 'trafficPolicy']),
      `spec.trafficPolicy: give one of inline, policy or targetRef, not ${forms.join(' and ')}`,
    );
    return;
  }
  if (kind === 'AgentEndpoint' && forms[0] === 'policy') {
    file.sink.error(
      at(loc, ['spec', 'trafficPolicy', 'policy'], true),
      "spec.trafficPolicy.policy: AgentEndpoint takes 'inline' or 'targetRef'",
    );
    return;
  }
  if (tp?.targetRef)
    def.policy = { ref: tp.targetRef.name, base: ['spec', 'trafficPolicy', 'targetRef', 'name'] };
  else if (forms[0] === 'inline' || forms[0] === 'policy') {
    def.policy = { inline: tp?.[forms[0]], base: ['spec', 'trafficPolicy', forms[0]] };
  } else if (data.trafficPolicyName) {
    def.policy = { ref: data.trafficPolicyName, base: ['spec', 'trafficPolicyName'] };
  }
  file.endpoints++;
  endpoints.push(def);
}
