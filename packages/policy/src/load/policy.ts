// Compiles one traffic policy object (`on_tcp_connect: [...]` etc.) into rules. Every problem
// is reported with its place; the result is undefined when there was any.
import type { Environment } from '@marcbachmann/cel-js';
import type { Activation } from '../cel/activation.js';
import { type CompiledExpression, compileExpression } from '../cel/compile.js';
import { httpEnvironment, tcpEnvironment } from '../cel/environment.js';
import type { DiagnosticSink } from '../diagnostics.js';
import type {
  CompiledAction,
  CompiledRule,
  CompiledTrafficPolicy,
  ForwardResolution,
  Value,
} from '../model.js';
import { type Cidr, parseCidr } from '../net/ip.js';
import type { ExpressionLimits, ForwardTarget, ParsedEndpointUrl } from '../types.js';
import { compileTemplate, hasInterpolation } from './interpolate.js';
import { actionConfigs, describeIssue } from './schemas.js';
import { parseInternalUrl } from './urls.js';
import { type Path, type PathSegment, type SourceDoc, spanOf } from './yaml-source.js';

export interface PolicyContext {
  doc: SourceDoc;
  sink: DiagnosticSink;
  /** Where the policy object sits in its document. */
  base: Path;
  limits: ExpressionLimits;
  /** An internal URL to the upstream it stands for (endpoint table, then the Service fallback). */
  resolveInternal(url: ParsedEndpointUrl): ForwardTarget | undefined;
}

const PHASES = ['on_tcp_connect', 'on_http_request', 'on_http_response'] as const;
type Phase = (typeof PHASES)[number];
const LEGACY: Record<string, Phase> = { inbound: 'on_http_request', outbound: 'on_http_response' };

const TCP_ACTIONS = new Set([
  'close-connection',
  'deny',
  'forward-internal',
  'log',
  'restrict-ips',
  'set-vars',
  'terminate-tls',
]);
const HTTP_ACTIONS = new Set([
  'add-headers',
  'basic-auth',
  'circuit-breaker',
  'close-connection',
  'compress-response',
  'custom-response',
  'deny',
  'forward-internal',
  'http-request',
  'jwt-validation',
  'log',
  'oauth',
  'openid-connect',
  'owasp-crs-request',
  'owasp-crs-response',
  'rate-limit',
  'redirect',
  'remove-headers',
  'restrict-ips',
  'set-vars',
  'url-rewrite',
  'verify-webhook',
]);
/** Actions whose config Podgate understands; other HTTP actions are checked for shape only. */
const SHARED = new Set(['close-connection', 'deny', 'forward-internal', 'log', 'restrict-ips', 'set-vars']);

/**
 * The CEL library reads `vars` as a map only while it has no own `constructor`, and its parser
 * reserves `__proto__` and `prototype`: such a variable could be set but never read.
 */
const RESERVED_VAR_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A place inside the policy, and how to say it. */
class Place {
  constructor(
    private readonly ctx: PolicyContext,
    readonly rel: PathSegment[],
    readonly words: string,
  ) {}

  child(seg: PathSegment[], words?: string): Place {
    return new Place(this.ctx, [...this.rel, ...seg], words ?? this.words);
  }

  offset(opts: { key?: boolean; textOffset?: number } = {}): number {
    const span = spanOf(this.ctx.doc, [...this.ctx.base, ...this.rel]);
    if (opts.textOffset !== undefined) {
      return span.textOffset !== undefined ? span.textOffset + opts.textOffset : span.start;
    }
    return opts.key && span.keyStart !== undefined ? span.keyStart : span.start;
  }

  error(message: string, opts: { key?: boolean; textOffset?: number } = {}): void {
    this.ctx.sink.error(this.offset(opts), this.words ? `${this.words}: ${message}` : message);
  }
}

export function compileTrafficPolicy(value: unknown, ctx: PolicyContext): CompiledTrafficPolicy | undefined {
  const before = ctx.sink.errors.length;
  const root = new Place(ctx, [], '');
  if (value === null || value === undefined) value = {};
  if (!isObject(value)) {
    root.error(
      'a traffic policy must be a mapping of phases (on_tcp_connect, on_http_request, on_http_response)',
    );
    return undefined;
  }
  const out: CompiledTrafficPolicy = { onTcpConnect: [], canTerminate: false, setsVars: false };
  for (const [key, rules] of Object.entries(value)) {
    const place = root.child([key], key);
    const legacy = LEGACY[key];
    if (legacy) {
      place.error(`legacy phase '${key}' is not supported; use '${legacy}'`, { key: true });
      continue;
    }
    if (!(PHASES as readonly string[]).includes(key)) {
      place.error(`unknown phase '${key}' (use ${PHASES.join(', ')})`, { key: true });
      continue;
    }
    if (rules === null) continue;
    if (!Array.isArray(rules)) {
      place.error('must be a list of rules');
      continue;
    }
    const phase = key as Phase;
    rules.forEach((rule, i) => {
      const compiled = compileRule(rule, phase, place.child([i], `${phase} rule ${i + 1}`), i, ctx);
      if (compiled && phase === 'on_tcp_connect') out.onTcpConnect.push(compiled);
    });
  }
  for (const rule of out.onTcpConnect) {
    for (const action of rule.actions) {
      if (action.kind === 'set-vars') out.setsVars = true;
      if (terminates(action)) out.canTerminate = true;
    }
  }
  return ctx.sink.errors.length === before ? out : undefined;
}

function terminates(action: CompiledAction): boolean {
  switch (action.kind) {
    case 'deny':
    case 'close-connection':
      return true;
    case 'forward-internal':
      // With on_error: continue, only a target fixed at load is certain to end evaluation.
      return action.onError === 'halt' || !hasInterpolation(action.url);
    default:
      return false;
  }
}

function compileRule(
  rule: unknown,
  phase: Phase,
  place: Place,
  index: number,
  ctx: PolicyContext,
): CompiledRule | undefined {
  if (!isObject(rule)) {
    place.error('a rule must be a mapping with expressions and actions');
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(rule)) {
    if (key !== 'name' && key !== 'expressions' && key !== 'actions') {
      place
        .child([key])
        .error(`unknown field '${key}' (a rule has name, expressions, actions)`, { key: true });
      ok = false;
    }
  }
  const env = phase === 'on_tcp_connect' ? tcpEnvironment : httpEnvironment;
  const name = rule.name;
  if (name !== undefined && typeof name !== 'string') {
    place.child(['name']).error('name must be a string');
    ok = false;
  }
  const expressions: CompiledExpression[] = [];
  const rawExpressions = rule.expressions ?? [];
  if (!Array.isArray(rawExpressions)) {
    place.child(['expressions']).error('expressions must be a list of CEL expressions');
    ok = false;
  } else {
    rawExpressions.forEach((source, j) => {
      const at = place.child(['expressions', j], `${place.words}, expression ${j + 1}`);
      if (typeof source !== 'string') {
        at.error(`expression must be a string, got ${source === null ? 'null' : typeof source}`);
        ok = false;
        return;
      }
      const compiled = compileExpression(env, source, 'bool', ctx.limits);
      if (!compiled.ok) {
        at.error(compiled.message, { textOffset: compiled.offset });
        ok = false;
        return;
      }
      expressions.push(compiled.expression);
    });
  }
  const actions: CompiledAction[] = [];
  const rawActions = rule.actions;
  if (!Array.isArray(rawActions) || rawActions.length === 0) {
    (rawActions === undefined ? place : place.child(['actions'])).error(
      'a rule needs a non-empty list of actions',
    );
    ok = false;
  } else {
    rawActions.forEach((action, k) => {
      const type = isObject(action) && typeof action.type === 'string' ? action.type : undefined;
      const at = place.child(['actions', k], `${place.words}, action ${k + 1}${type ? ` (${type})` : ''}`);
      const compiled = compileAction(action, phase, at, env, ctx);
      if (compiled === undefined) ok = false;
      else if (compiled !== null) actions.push(compiled);
    });
  }
  if (!ok) return undefined;
  const ref = typeof name === 'string' ? { index, name } : { index };
  return { ref: Object.freeze(ref), expressions, actions };
}

/** undefined: error reported; null: valid but not evaluated (HTTP-only action). */
function compileAction(
  action: unknown,
  phase: Phase,
  place: Place,
  env: Environment,
  ctx: PolicyContext,
): CompiledAction | null | undefined {
  if (!isObject(action)) {
    place.error('an action must be a mapping with type and config');
    return undefined;
  }
  for (const key of Object.keys(action)) {
    if (key !== 'type' && key !== 'config') {
      place.child([key]).error(`unknown field '${key}' (an action has type, config)`, { key: true });
      return undefined;
    }
  }
  const type = action.type;
  if (typeof type !== 'string') {
    place.error("missing action 'type'");
    return undefined;
  }
  const valid = phase === 'on_tcp_connect' ? TCP_ACTIONS : HTTP_ACTIONS;
  if (!valid.has(type)) {
    const known = TCP_ACTIONS.has(type) || HTTP_ACTIONS.has(type);
    place
      .child(['type'])
      .error(
        known
          ? `action '${type}' is not valid in ${phase}`
          : `unknown action type '${type}'${phase === 'on_tcp_connect' ? ` (valid in on_tcp_connect: ${[...TCP_ACTIONS].join(', ')})` : ''}`,
      );
    return undefined;
  }
  if (type === 'terminate-tls') {
    place
      .child(['type'])
      .error(
        "terminate-tls is not supported by Podgate's TCP proxy: it forwards bytes as they come; terminate TLS in the upstream",
      );
    return undefined;
  }
  const config = action.config ?? {};
  if (!isObject(config)) {
    place.child(['config']).error('config must be a mapping');
    return undefined;
  }
  if (!SHARED.has(type)) return null;
  const schema =
    type === 'deny' && phase !== 'on_tcp_connect'
      ? actionConfigs.denyHttp
      : actionConfigs[type as keyof typeof actionConfigs];
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const { message, path } = describeIssue(issue);
      const isKey = issue.code === 'unrecognized_keys';
      place
        .child(['config', ...(path as PathSegment[])])
        .error(`config${path.length ? `.${path.join('.')}` : ''}: ${message}`, { key: isKey });
    }
    return undefined;
  }
  const cfg = parsed.data as Record<string, unknown>;
  const cfgPlace = place.child(['config']);
  switch (type) {
    case 'deny':
      return { kind: 'deny' };
    case 'close-connection':
      return { kind: 'close-connection' };
    case 'forward-internal':
      return compileForward(cfg as { url: string; on_error?: 'halt' | 'continue' }, cfgPlace, env, ctx);
    case 'log': {
      // The walker's own (null-prototype) map: zod drops a `__proto__` key from records silently.
      const pairs = Object.entries((config.metadata as Record<string, unknown> | null | undefined) ?? {});
      if (!scalarValues(pairs, cfgPlace, ['metadata'])) return undefined;
      const entries = compileValues(pairs, cfgPlace, ['metadata'], env, ctx);
      return entries && { kind: 'log', entries };
    }
    case 'set-vars': {
      const pairs: Array<[string, unknown]> = [];
      let ok = true;
      (config.vars as Array<Record<string, unknown>>).forEach((item, i) => {
        const keys = Object.keys(item);
        if (keys.length !== 1) {
          cfgPlace
            .child(['vars', i])
            .error(
              `config.vars[${i}]: each item sets exactly one variable (NAME: value), got ${keys.length}`,
            );
          ok = false;
          return;
        }
        const name = keys[0]!;
        if (RESERVED_VAR_NAMES.has(name)) {
          cfgPlace
            .child(['vars', i, name])
            .error(`config.vars[${i}]: '${name}' cannot be a variable name (CEL cannot read it back)`, {
              key: true,
            });
          ok = false;
          return;
        }
        pairs.push([name, item[name]]);
      });
      if (!ok) return undefined;
      if (!scalarValues(pairs, cfgPlace, ['vars'], (name) => [pairs.findIndex(([n]) => n === name), name]))
        return undefined;
      const entries = compileValues(pairs, cfgPlace, ['vars'], env, ctx, (name) => {
        const i = pairs.findIndex(([n]) => n === name);
        return [i, name];
      });
      return entries && { kind: 'set-vars', entries };
    }
    case 'restrict-ips':
      return compileRestrictIps(cfg, cfgPlace);
  }
  return undefined;
}

/**
 * zod skips a `__proto__` key of a record without checking its value; check every value here
 * so that key behaves like any other.
 */
function scalarValues(
  pairs: Array<[string, unknown]>,
  place: Place,
  prefix: PathSegment[],
  pathOf: (name: string) => PathSegment[] = (name) => [name],
): boolean {
  let ok = true;
  for (const [name, raw] of pairs) {
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') continue;
    place
      .child([...prefix, ...pathOf(name)])
      .error(`config.${prefix.join('.')}.${name}: must be a string, number or boolean`);
    ok = false;
  }
  return ok;
}

function compileValues(
  pairs: Array<[string, unknown]>,
  place: Place,
  prefix: PathSegment[],
  env: Environment,
  ctx: PolicyContext,
  pathOf: (name: string) => PathSegment[] = (name) => [name],
): Array<[string, Value]> | undefined {
  const out: Array<[string, Value]> = [];
  let ok = true;
  for (const [name, raw] of pairs) {
    if (typeof raw === 'string' && hasInterpolation(raw)) {
      const compiled = compileTemplate(env, raw, ctx.limits);
      if (!compiled.ok) {
        const at = place.child([...prefix, ...pathOf(name)]);
        at.error(`config.${prefix.join('.')}.${name}: ${compiled.message}`, { textOffset: compiled.offset });
        ok = false;
        continue;
      }
      out.push([name, { template: compiled.template }]);
    } else {
      // CEL integers are BigInt; YAML gives whole numbers as JS numbers.
      out.push([name, { value: typeof raw === 'number' && Number.isInteger(raw) ? BigInt(raw) : raw }]);
    }
  }
  return ok ? out : undefined;
}

function compileForward(
  cfg: { url: string; on_error?: 'halt' | 'continue' },
  place: Place,
  env: Environment,
  ctx: PolicyContext,
): CompiledAction | undefined {
  const onError = cfg.on_error ?? 'halt';
  const urlPlace = place.child(['url']);
  if (hasInterpolation(cfg.url)) {
    const compiled = compileTemplate(env, cfg.url, ctx.limits);
    if (!compiled.ok) {
      urlPlace.error(`config.url: ${compiled.message}`, { textOffset: compiled.offset });
      return undefined;
    }
    const template = compiled.template;
    const resolve = (activation: Activation): ForwardResolution => {
      const url = template.render(activation);
      const parsed = parseInternalUrl(url);
      if (!parsed.ok) return { ok: false, message: parsed.message };
      const target = ctx.resolveInternal(parsed.value);
      if (!target) return { ok: false, message: `no internal endpoint for '${url}'` };
      return { ok: true, target: { ...target, url } };
    };
    return { kind: 'forward-internal', resolve, onError, url: cfg.url };
  }
  const parsed = parseInternalUrl(cfg.url);
  if (!parsed.ok) {
    urlPlace.error(`config.url: ${parsed.message}`);
    return undefined;
  }
  const target = ctx.resolveInternal(parsed.value);
  if (!target) {
    urlPlace.error(
      `config.url: cannot resolve forward-internal target '${cfg.url}': no endpoint has this url, and it is not of the form NAME.NAMESPACE.internal`,
    );
    return undefined;
  }
  const result: ForwardResolution = { ok: true, target: Object.freeze({ ...target, url: cfg.url }) };
  return { kind: 'forward-internal', resolve: () => result, onError, url: cfg.url };
}

function compileRestrictIps(cfg: Record<string, unknown>, place: Place): CompiledAction | undefined {
  let ok = true;
  const policies = cfg.ip_policies as string[] | undefined;
  if (policies && policies.length > 0) {
    place
      .child(['ip_policies'])
      .error(
        "config.ip_policies: IP policies live in ngrok's cloud and are not supported self-hosted; list the CIDRs in allow/deny",
        {
          key: true,
        },
      );
    ok = false;
  }
  const parseList = (field: 'allow' | 'deny'): Cidr[] => {
    const list = (cfg[field] as string[] | undefined) ?? [];
    const out: Cidr[] = [];
    list.forEach((text, i) => {
      const cidr = parseCidr(text.trim());
      if (!cidr) {
        place
          .child([field, i])
          .error(
            `config.${field}[${i}]: bad CIDR '${text}' (expected a.b.c.d/n or an IPv6 prefix such as 2001:db8::/32)`,
          );
        ok = false;
      } else out.push(cidr);
    });
    return out;
  };
  const allow = parseList('allow');
  const deny = parseList('deny');
  if (ok && allow.length === 0 && deny.length === 0) {
    place.error('restrict-ips needs at least one CIDR in allow or deny');
    ok = false;
  }
  return ok
    ? { kind: 'restrict-ips', enforce: (cfg.enforce as boolean | undefined) ?? true, allow, deny }
    : undefined;
}
