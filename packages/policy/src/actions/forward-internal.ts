// forward-internal: allow, to the upstream an internal URL stands for. A fixed URL is resolved
// at load (unresolvable: a load error); a `${}` URL per connection (unresolvable: fail closed
// with on_error: halt, or note it in `actions.ngrok.forward_internal` and go on with continue).
import { z } from 'zod';
import type { Activation } from '../cel/activation.js';
import { DECISION_ERROR_CODES } from '../decision-codes.js';
import { compileTemplate, hasInterpolation } from '../load/interpolate.js';
import { parseInternalUrl } from '../load/urls.js';
import type { ForwardTarget } from '../types.js';
import { CONTINUE, evaluatedAction, PHASES, type Step } from './define.js';

type Resolution = { ok: true; step: Step } | { ok: false; message: string };

interface Forward {
  /** As configured. */
  url: string;
  onError: 'halt' | 'continue';
  resolve(activation: Activation): Resolution;
  fixed?: ForwardTarget;
}

export const forwardInternal = evaluatedAction({
  type: 'forward-internal',
  phases: PHASES,
  config: z.strictObject({
    url: z.string().min(1),
    on_error: z.enum(['halt', 'continue']).optional(),
    // Obsolete in ngrok's docs; accepted and ignored.
    binding: z.unknown().optional(),
  }),
  compile(cfg, site): Forward | undefined {
    const onError = cfg.on_error ?? 'halt';
    const urlPlace = site.at.child(['url']);
    if (hasInterpolation(cfg.url)) {
      const compiled = compileTemplate(site.env, cfg.url, site.limits);
      if (!compiled.ok) {
        urlPlace.error(`config.url: ${compiled.message}`, { textOffset: compiled.offset });
        return undefined;
      }
      const { template } = compiled;
      const { resolveInternal } = site;
      const continueOnError = onError === 'continue' ? { continueOnError: { url: cfg.url } } : {};
      const resolve = (activation: Activation): Resolution => {
        const url = template.render(activation);
        const parsed = parseInternalUrl(url);
        if (!parsed.ok) return { ok: false, message: parsed.message };
        const target = resolveInternal(parsed.value);
        if (!target) return { ok: false, message: `no internal endpoint for '${url}'` };
        return { ok: true, step: { kind: 'forward', target: { ...target, url }, ...continueOnError } };
      };
      return { url: cfg.url, onError, resolve };
    }
    const parsed = parseInternalUrl(cfg.url);
    if (!parsed.ok) {
      urlPlace.error(`config.url: ${parsed.message}`);
      return undefined;
    }
    const target = site.resolveInternal(parsed.value);
    if (!target) {
      urlPlace.error(
        `config.url: cannot resolve forward-internal target '${cfg.url}': no endpoint has this url, and it is not of the form NAME.NAMESPACE.internal`,
      );
      return undefined;
    }
    const fixedTarget = Object.freeze({ ...target, url: cfg.url });
    const fixed: Resolution = Object.freeze({
      ok: true,
      step: Object.freeze({
        kind: 'forward',
        target: fixedTarget,
        ...(onError === 'continue' ? { continueOnError: Object.freeze({ url: cfg.url }) } : {}),
      }),
    });
    return { url: cfg.url, onError, resolve: () => fixed, fixed: fixedTarget };
  },
  // With on_error: continue it may not end evaluation: the URL may not resolve, or the proxy
  // may not reach the upstream (Decision.resume), and then the later rules run.
  terminates: (forward) => forward.onError === 'halt',
  writesVars: false,
  fixedTarget: (forward) => forward.fixed,
  evaluate(forward, run) {
    const resolved = forward.resolve(run.activation);
    if (resolved.ok) return resolved.step;
    const code = DECISION_ERROR_CODES.forwardError;
    if (forward.onError === 'halt') return { kind: 'fail', code, message: resolved.message };
    run.activation.actions = {
      ngrok: { forward_internal: { url: forward.url, error: { code, message: resolved.message } } },
    };
    return CONTINUE;
  },
});
