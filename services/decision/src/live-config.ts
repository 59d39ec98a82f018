// What a reload swaps at once: the endpoints and policies, and the bearer tokens. Both are
// read together, so a request sees the old pair or the new pair, never a mix; a bad policy
// file or a bad token file refuses the whole reload and the last good pair stays.
import { readFile } from 'node:fs/promises';
import { errorMessage } from '@podgate/errors';
import { type Diagnostic, formatDiagnostic, loadPolicyFiles, type PolicyConfig } from '@podgate/policy';
import type { LoadOutcome } from '@podgate/runtime';
import { parseTokenFile, type TokenSet } from './auth/tokens.js';

export interface LiveConfig {
  policy: PolicyConfig;
  /** null: /v1 is served without tokens (--insecure-no-auth). */
  tokens: TokenSet | null;
  /** Load warnings (an unquoted `!` expression, a short token), to log after each load. */
  warnings: string[];
}

export interface LiveConfigSources {
  configFiles: readonly string[];
  tokenFile?: string;
}

export async function loadLiveConfig(sources: LiveConfigSources): Promise<LoadOutcome<LiveConfig>> {
  const files: Array<{ path: string; text: string }> = [];
  for (const path of sources.configFiles) {
    try {
      files.push({ path, text: await readFile(path, 'utf8') });
    } catch (error) {
      return { ok: false, reason: `${path}: cannot read: ${errorMessage(error)}` };
    }
  }
  const loaded = loadPolicyFiles(files);
  if (!loaded.ok) return { ok: false, reason: loaded.errors.map(formatDiagnostic).join('\n') };
  const warnings = loaded.warnings.map((w: Diagnostic) => formatDiagnostic(w));
  if (loaded.config.endpoints.length === 0) {
    return {
      ok: false,
      reason: `no endpoint in ${sources.configFiles.join(', ')}: decisions are asked for an endpoint's URL (AgentEndpoint or CloudEndpoint)`,
    };
  }

  let tokens: TokenSet | null = null;
  if (sources.tokenFile !== undefined) {
    let text: string;
    try {
      text = await readFile(sources.tokenFile, 'utf8');
    } catch (error) {
      return {
        ok: false,
        reason: `${sources.tokenFile}: cannot read the token file: ${errorMessage(error)}`,
      };
    }
    const parsed = parseTokenFile(text, sources.tokenFile);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    tokens = parsed.tokens;
    warnings.push(...parsed.warnings);
  }
  return { ok: true, value: { policy: loaded.config, tokens, warnings } };
}
