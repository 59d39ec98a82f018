// The verdict table `podgate dev` prints: every pod of the pods file (and one address no
// pod owns) against every Kubernetes-bound endpoint. Pure apart from the lookup it is given.
import type { LookupResult, PodLike } from '@podgate/identity';
import { podVarsFromLookup, tryNormalizeIp } from '@podgate/identity';
import type { CompiledEndpoint } from '@podgate/policy';

export interface ClientRow {
  label: string;
  ip: string;
}

/** One row per pod with an IP (first IP), whether or not it owns it, plus an unknown client. */
export function clientRows(pods: readonly PodLike[], unknownIp: string): ClientRow[] {
  const rows: ClientRow[] = [];
  for (const pod of pods) {
    const raw = pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP;
    const ip = raw === undefined ? null : tryNormalizeIp(raw);
    if (ip === null) continue;
    const notes = [pod.spec?.hostNetwork ? 'hostNetwork' : '', pod.status?.phase ?? ''].filter(
      (n) => n && n !== 'Running',
    );
    const label = `${pod.metadata?.namespace ?? '?'}/${pod.metadata?.name ?? '?'}${notes.length ? ` (${notes.join(', ')})` : ''}`;
    rows.push({ label, ip });
  }
  rows.push({ label: '(no pod)', ip: unknownIp });
  return rows;
}

export type Lookup = (ip: string) => Promise<LookupResult>;

/** `allow -> target`, `deny (rule N)`, `error (rule N)`: short enough for a table cell. */
export async function verdictTable(
  endpoints: readonly CompiledEndpoint[],
  rows: readonly ClientRow[],
  lookup: Lookup,
  now: Date,
): Promise<string[][]> {
  const gates = endpoints.filter((e) => e.binding === 'kubernetes');
  const header = ['client', 'ip', ...gates.map((e) => e.url.href)];
  const table = [header];
  for (const row of rows) {
    const pod = podVarsFromLookup(await lookup(row.ip));
    const cells = [row.label, row.ip];
    for (const endpoint of gates) {
      const d = endpoint.evaluateTcpConnect({
        conn: {
          clientIp: row.ip,
          clientPort: 50000,
          serverIp: '127.0.0.1',
          serverPort: endpoint.url.port,
          startedAt: now,
        },
        pod,
      });
      const rule = d.rule ? ` (rule ${d.rule.index + 1})` : '';
      cells.push(d.allowed ? `allow${rule}` : `${d.action}${rule}`);
    }
    table.push(cells);
  }
  return table;
}

export function formatTable(table: readonly string[][]): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Rows whose verdicts differ between two tables of the same shape (by client label). */
export function changedRows(before: readonly string[][], after: readonly string[][]): string[][] {
  const old = new Map(before.slice(1).map((r) => [r.join('\u0000'), true]));
  return after.slice(1).filter((r) => !old.has(r.join('\u0000')));
}
