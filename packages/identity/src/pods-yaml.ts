// Reads pods from YAML as `kubectl get pods -A -o yaml` prints it (a `kind: List`), a
// `PodList`, or one or more `kind: Pod` documents. Errors name the file and line.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { IdentityError } from './errors.js';
import { type PodLike, slimPod } from './pod-like.js';

const LIST_KINDS = new Set(['List', 'PodList']);

export function parsePodsYaml(text: string, file: string): PodLike[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  if (!Array.isArray(docs)) return []; // an empty stream
  const where = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return `${file}:${line}:${col}`;
  };
  const fail = (offset: number | undefined, message: string): never => {
    throw new IdentityError('invalid_pods_file', `${where(offset)}: ${message}`);
  };
  const pods: PodLike[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) fail(error.pos[0], error.message.split('\n')[0] ?? error.message);
    const root = doc.contents;
    // An empty document, e.g. after a trailing `---`.
    if (root === null || (isScalar(root) && root.value === null)) continue;
    if (!isMap(root)) fail(root.range?.[0], 'expected a Pod, a PodList or a List of pods');
    const kind = doc.get('kind');
    if (kind === 'Pod') {
      pods.push(checkedPod(doc.toJS(), root, fail));
      continue;
    }
    if (typeof kind !== 'string' || !LIST_KINDS.has(kind)) {
      fail(root.range?.[0], `expected kind Pod, PodList or List, found ${JSON.stringify(kind ?? null)}`);
    }
    const items = doc.get('items', true);
    if (items === undefined || items === null) continue; // an empty list prints `items: []` or nothing
    if (!isSeq(items)) fail((items as Node).range?.[0], 'items must be a list');
    const seq = items as import('yaml').YAMLSeq;
    for (const item of seq.items) {
      const node = item as Node;
      if (!isMap(node)) fail(node?.range?.[0], 'each item must be a Pod object');
      const value = (node as import('yaml').YAMLMap).toJSON() as Record<string, unknown>;
      if (value.kind !== undefined && value.kind !== 'Pod') {
        fail(node.range?.[0], `expected a Pod item, found kind ${JSON.stringify(value.kind)}`);
      }
      pods.push(checkedPod(value, node, fail));
    }
  }
  return pods;
}

function checkedPod(
  value: unknown,
  node: Node,
  fail: (offset: number | undefined, message: string) => never,
): PodLike {
  const pod = slimPod(value);
  const meta = pod.metadata ?? {};
  const missing = (['uid', 'name', 'namespace'] as const).filter((f) => !meta[f]);
  if (missing.length > 0) fail(node.range?.[0], `pod has no metadata.${missing.join(', metadata.')}`);
  return pod;
}
