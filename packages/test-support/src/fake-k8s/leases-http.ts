// coordination.k8s.io/v1 Leases: GET, POST (create), PUT with optimistic concurrency
// (a stale resourceVersion gets 409 Conflict, as leader election expects).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, sendStatus } from './respond.js';
import { type FakeState, objectKey } from './state.js';
import type { Lease } from './types.js';

export async function handleLease(
  state: FakeState,
  req: IncomingMessage,
  res: ServerResponse,
  ns: string,
  name: string | undefined,
): Promise<void> {
  state.counts.lease++;
  const { leases } = state;
  if (req.method === 'GET' && name) {
    const lease = leases.get(objectKey(ns, name));
    if (!lease) return sendStatus(res, 404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    return sendJson(res, 200, lease);
  }
  const body = (await readJson(req).catch(() => null)) as Partial<Lease> | null;
  if (!body?.metadata?.name) return sendStatus(res, 400, 'BadRequest', 'lease body without metadata.name');
  const k = objectKey(ns, body.metadata.name);
  if (req.method === 'POST' && !name) {
    if (leases.has(k))
      return sendStatus(res, 409, 'AlreadyExists', `leases "${body.metadata.name}" already exists`);
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: body.metadata.name,
        namespace: ns,
        uid: randomUUID(),
        resourceVersion: String(++state.rv),
      },
      spec: (body.spec ?? {}) as Record<string, unknown>,
    };
    leases.set(k, lease);
    return sendJson(res, 201, lease);
  }
  if (req.method === 'PUT' && name === body.metadata.name) {
    const current = leases.get(k);
    if (!current) return sendStatus(res, 404, 'NotFound', `leases "${name}" not found`);
    if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
      return sendStatus(
        res,
        409,
        'Conflict',
        'the object has been modified; please apply your changes to the latest version',
      );
    }
    const lease: Lease = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(++state.rv) },
      spec: (body.spec ?? {}) as Record<string, unknown>,
    };
    leases.set(k, lease);
    return sendJson(res, 200, lease);
  }
  return sendStatus(res, 405, 'MethodNotAllowed', `${req.method} not supported here`);
}
