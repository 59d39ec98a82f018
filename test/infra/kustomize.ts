// Renders the kustomizations under infra/kubernetes with `kubectl kustomize` (or a standalone
// `kustomize`), offline: generators and patches only, no cluster.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The command that renders a kustomization directory, or undefined when there is none here. */
export const renderer: string[] | undefined = (() => {
  for (const command of [
    ['kubectl', 'kustomize'],
    ['kustomize', 'build'],
  ]) {
    try {
      execFileSync(command[0]!, command[0] === 'kubectl' ? ['version', '--client'] : ['version'], {
        stdio: 'ignore',
      });
      return command;
    } catch {}
  }
  return undefined;
})();

/** Every kustomization (not Component) under `dir`, as paths relative to `root`. */
export function kustomizations(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (
        entry === 'kustomization.yaml' &&
        !/^kind:\s*Component\s*$/m.test(readFileSync(full, 'utf8'))
      ) {
        out.push(relative(root, path));
      }
    }
  };
  walk(join(root, dir));
  return out.sort();
}

export function render(root: string, dir: string): K8sObject[] {
  if (renderer === undefined) throw new Error('neither kubectl nor kustomize is installed');
  const [command, ...args] = renderer;
  const text = execFileSync(command!, [...args, join(root, dir)], { encoding: 'utf8' });
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}
