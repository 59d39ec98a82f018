// After a fault: the store has converged when a lookup of every address of the pool (through
// the decision service, as a policy would see it) names exactly the pod the fake API says owns
// it, and nothing for a free one. Polled until true, for at most `timeoutMs`.
import { identityOf } from './clients.js';
import type { Stack } from './stack.js';
import type { World } from './world.js';

export interface Convergence {
  converged: boolean;
  ms: number;
  /** What still differed at the last poll (empty when converged). */
  differences: string[];
}

async function differences(stack: Stack, world: World): Promise<string[]> {
  const answers = await Promise.all(world.ips.map((ip) => identityOf(stack.decisionPort, ip, 2_000)));
  const out: string[] = [];
  world.ips.forEach((ip, i) => {
    const answer = answers[i]!;
    const want = world.ownerOf(ip);
    if (answer.status !== 200) {
      out.push(`${ip}: HTTP ${answer.status} ${answer.error ?? ''}`);
      return;
    }
    const body = JSON.parse(answer.body) as {
      identity: { id: string; metadata: { name: string; namespace: string } };
      lookup: { found: boolean; reason?: string };
    };
    const got =
      body.identity.id === ''
        ? `(${body.lookup.reason})`
        : `${body.identity.metadata.namespace}/${body.identity.metadata.name}`;
    if (want === undefined ? body.lookup.reason !== 'not_found' : body.identity.id !== want.uid) {
      out.push(`${ip}: want ${want ? `${want.namespace}/${want.name}` : '(not_found)'}, got ${got}`);
    }
  });
  return out;
}

export async function awaitConvergence(stack: Stack, world: World, timeoutMs: number): Promise<Convergence> {
  const started = performance.now();
  let last: string[] = [];
  while (performance.now() - started < timeoutMs) {
    last = await differences(stack, world);
    if (last.length === 0)
      return { converged: true, ms: Math.round(performance.now() - started), differences: [] };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { converged: false, ms: Math.round(performance.now() - started), differences: last };
}
