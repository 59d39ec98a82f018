// What `podgate dev` prints to paste into another terminal: for each endpoint the proxy serves,
// a curl from a pod it allows and from one it refuses (curl --interface binds the pod's
// loopback address, so the proxy sees that IP), and the dry-run and eval commands.
import type { BoundListener } from '@podgate/proxy';

export function tryThis(
  table: readonly string[][],
  listeners: readonly BoundListener[],
  configPath: string,
  podsPath: string,
): string {
  const header = table[0] ?? [];
  const lines = ['', 'The proxy is listening (each endpoint on 127.0.0.1):'];
  for (const l of listeners) lines.push(`  ${l.endpoint.padEnd(30)} 127.0.0.1:${l.port}`);
  lines.push('', 'Try, in another terminal:');
  for (const l of listeners) {
    const column = header.indexOf(l.endpoint);
    if (column < 0) continue;
    const pick = (verdict: RegExp) => table.slice(1).find((row) => verdict.test(row[column] ?? ''));
    const allowed = pick(/^allow/);
    const refused = pick(/^(deny|error)/);
    const curl = (row: string[]) =>
      `  curl --interface ${row[1]} http://127.0.0.1:${l.port}/    # ${row[0]}: ${row[column]}`;
    if (allowed) lines.push(curl(allowed));
    if (refused) lines.push(`${curl(refused)} (the connection is closed)`);
  }
  lines.push(
    `  npx podgate eval --config ${configPath} --pods-file ${podsPath} --endpoint tcp://ledger.payments:5432 --client-ip 127.0.0.4`,
    '  npx podgate validate --each examples/seed/*.yaml',
    `  edit ${podsPath} (move worker-b to namespace web, or delete worker-a): the verdicts here and the proxy's answers change`,
  );
  return lines.join('\n');
}
