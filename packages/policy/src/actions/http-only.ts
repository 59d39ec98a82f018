// ngrok's HTTP-only actions. Podgate loads the HTTP phases so that a policy written for ngrok
// loads unchanged, but evaluates only on_tcp_connect: these are accepted by name, their config
// must be a mapping, and nothing more is checked.
import { checkedOnlyAction, HTTP_PHASES } from './define.js';

const TYPES = [
  'add-headers',
  'basic-auth',
  'circuit-breaker',
  'compress-response',
  'custom-response',
  'http-request',
  'jwt-validation',
  'oauth',
  'openid-connect',
  'owasp-crs-request',
  'owasp-crs-response',
  'rate-limit',
  'redirect',
  'remove-headers',
  'url-rewrite',
  'verify-webhook',
] as const;

export const httpOnlyActions = TYPES.map((type) => checkedOnlyAction({ type, phases: HTTP_PHASES }));
