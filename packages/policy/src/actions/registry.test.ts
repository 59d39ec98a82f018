// An action is one module in one table; a module missing a part cannot slip through: not past
// the type checker (the @ts-expect-error lines fail `npm run typecheck` once they stop being
// errors), not past module load, and not past policy load, where its rule would otherwise vanish.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatDiagnostic } from '../diagnostics.js';
import { loadPolicyFilesWith } from '../load/load.js';
import { input, pod } from '../test-support.js';
import { type ActionModule, CONTINUE, evaluatedAction, PHASES, type Step } from './define.js';
import { ACTIONS, actionTable } from './registry.js';

const TAGGED: Step = Object.freeze({ kind: 'refuse', action: 'deny' });

/** A complete module for an action Podgate does not have: what adding one takes. */
const tag = evaluatedAction({
  type: 'tag',
  phases: ['on_tcp_connect'],
  config: z.strictObject({ refuse: z.boolean() }),
  compile: (config) => config.refuse,
  terminates: (refuse) => refuse,
  writesVars: false,
  evaluate: (refuse) => (refuse ? TAGGED : CONTINUE),
});

const complete = {
  type: 'x',
  phases: PHASES,
  config: z.strictObject({}),
  compile: () => true,
  terminates: () => false,
  writesVars: false,
  evaluate: () => CONTINUE,
} as const;

/** Every part except one. */
function without<K extends keyof typeof complete>(key: K): Omit<typeof complete, K> {
  const { [key]: _, ...rest } = complete;
  return rest;
}

describe('type level (checked by npm run typecheck)', () => {
  it('an evaluated action needs every part', () => {
    expect(evaluatedAction(complete).type).toBe('x');
    // @ts-expect-error no compile step
    expect(() => evaluatedAction(without('compile'))).toThrow(/no compile step/);
    // @ts-expect-error no evaluate step
    expect(() => evaluatedAction(without('evaluate'))).toThrow(/no evaluate step/);
    // @ts-expect-error no terminates step
    expect(() => evaluatedAction(without('terminates'))).toThrow(/no terminates step/);
    // @ts-expect-error no config schema
    expect(() => evaluatedAction(without('config'))).toThrow(/no config schema/);
    // @ts-expect-error no writesVars
    expect(() => evaluatedAction(without('writesVars'))).toThrow(/no writesVars flag/);
  });

  it('the evaluate step takes what the compile step made', () => {
    evaluatedAction({
      ...complete,
      compile: () => ({ cidrs: ['10.0.0.0/8'] }),
      // @ts-expect-error the compiled form has no `url`
      evaluate: (compiled) => (compiled.url ? CONTINUE : CONTINUE),
    });
  });

  it('a table entry needs every part of its kind', () => {
    const entries: ActionModule[] = [
      // @ts-expect-error an evaluated entry without a compile step
      { type: 'broken', support: 'evaluated', phases: PHASES },
      // @ts-expect-error a refused entry without its reason
      { type: 'refused', support: 'refused', phases: PHASES },
    ];
    expect(entries).toHaveLength(2);
  });
});

const policy = (type: string) => ({
  path: 'p.yaml',
  text: `on_tcp_connect:\n  - actions:\n      - type: ${type}\n  - actions:\n      - type: close-connection\n`,
});

describe('at run time', () => {
  it('a module missing a part throws when it is defined, naming what is missing', () => {
    const broken = { ...without('evaluate'), type: 'half' } as never;
    expect(() => evaluatedAction(broken)).toThrow(
      "action module 'half' is incomplete: it has no evaluate step",
    );
  });

  it('a policy whose action has no compile step fails to load, at that action', () => {
    const broken = { type: 'deny', support: 'evaluated', phases: PHASES } as unknown as ActionModule;
    const others = ['close-connection'].map((t) => ACTIONS.get(t)!);
    const result = loadPolicyFilesWith(actionTable([broken, ...others]), [policy('deny')]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatDiagnostic)).toEqual([
      "p.yaml:3:9: error: on_tcp_connect rule 1, action 1 (deny): action 'deny' cannot be loaded: its module has no compile step (a bug in Podgate)",
    ]);
  });

  it('a compile step that fails without saying why fails the load instead of dropping the rule', () => {
    const silent: ActionModule = {
      type: 'deny',
      support: 'evaluated',
      phases: PHASES,
      compile: () => undefined,
    };
    const result = loadPolicyFilesWith(actionTable([silent, ACTIONS.get('close-connection')!]), [
      policy('deny'),
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors[0]!.message).toMatch(/could not be compiled, and its module did not say why/);
  });

  it('two modules of one type are refused when the table is built', () => {
    expect(() => actionTable([ACTIONS.get('deny')!, ACTIONS.get('deny')!])).toThrow(
      "two action modules of type 'deny'",
    );
  });

  it('a new action is its module and its table entry: the loader and the evaluator need nothing else', () => {
    const table = actionTable([tag, ACTIONS.get('close-connection')!]);
    const load = (refuse: boolean) => {
      const text = `on_tcp_connect:\n  - actions:\n      - type: tag\n        config: {refuse: ${refuse}}\n`;
      return loadPolicyFilesWith(table, [{ path: 'p.yaml', text }]);
    };
    const refusing = load(true);
    if (!refusing.ok) throw new Error(refusing.errors.map(formatDiagnostic).join('\n'));
    expect(refusing.config.policies[0]!.evaluateTcpConnect(input(pod()))).toMatchObject({
      allowed: false,
      action: 'deny',
      rule: { index: 0 },
    });
    expect(refusing.config.policies[0]!.rules[0]!.actions).toEqual(['tag']);
    // Its terminates step is what the load-time "never ends in a terminating action" check asks.
    const passing = load(false);
    expect(passing.ok ? [] : passing.errors.map((e) => e.message)).toEqual([
      'this policy never ends in a terminating action (deny, close-connection or forward-internal)',
    ]);
  });

  it('lists the on_tcp_connect actions in the unknown-action message, from the table', () => {
    expect(ACTIONS.typesIn('on_tcp_connect')).toEqual([
      'close-connection',
      'deny',
      'forward-internal',
      'log',
      'restrict-ips',
      'set-vars',
      'terminate-tls',
    ]);
    expect(ACTIONS.typesIn('on_http_request')).toContain('add-headers');
    expect(ACTIONS.typesIn('on_http_request')).not.toContain('terminate-tls');
  });
});
