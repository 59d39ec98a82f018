// `podgate dev`'s decision service: the real service on the embedded store, on 127.0.0.1 at a
// port of the system's choosing, with a bearer token made for this run (in a temporary file,
// printed so that the commands to paste work).
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DecisionService, parseDecisionConfig, startDecisionService } from '@podgate/decision';
import type { IdentityReader } from '@podgate/identity';
import type { Logger } from '@podgate/runtime';

export interface DevDecision {
  service: DecisionService;
  token: string;
}

export async function startDevDecision(options: {
  configPaths: readonly string[];
  store: IdentityReader;
  cluster: string;
  logger: Logger;
}): Promise<DevDecision> {
  const token = randomBytes(18).toString('base64url');
  const dir = await mkdtemp(join(tmpdir(), 'podgate-dev-'));
  const tokenFile = join(dir, 'tokens');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const parsed = parseDecisionConfig({
    configFiles: [...options.configPaths],
    listen: '127.0.0.1:0',
    tokenFile,
    drainTimeoutMs: '2s',
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const service = await startDecisionService(parsed.config, {
    store: options.store,
    clusters: [options.cluster],
    logger: options.logger,
  });
  return { service, token };
}

/** The decision API commands to paste. */
export function decisionTryThis(decision: DevDecision, endpoint: string): string[] {
  const base = `http://127.0.0.1:${decision.service.port}`;
  const auth = `-H 'authorization: Bearer ${decision.token}'`;
  return [
    '',
    `The decision API is on ${base} (bearer token ${decision.token}):`,
    `  curl -s ${auth} -H 'content-type: application/json' -d '{"endpoint":"${endpoint}","client_ip":"127.0.0.2"}' ${base}/v1/decisions`,
    `  curl -s ${auth} ${base}/v1/identities/127.0.0.3`,
    `  curl -si ${auth} -H 'x-podgate-endpoint: ${endpoint}' --interface 127.0.0.4 ${base}/v1/forward-auth`,
    '',
    'Stop with Ctrl-C.',
  ];
}
