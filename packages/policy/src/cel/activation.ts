// The values CEL expressions read. Each is a small class registered as a CEL message type, so
// the checker knows every field (a typo is a load error) and a field read is a property read.
// Integers are BigInt because that is how the CEL library represents `int`.
import type { ConnInfo, PodVars } from '../types.js';

const hasOwn = Object.hasOwn;

/**
 * Annotation keys are chosen by whoever creates pods. The CEL library tells a map from a message
 * by `value.constructor`, so an own `constructor` key (or `__proto__`, which a spread or
 * JSON.parse turns into an own property) would make every read of the map fail. Such a map is
 * handed over as a Map, which the library reads by `get` alone; any other map as it is.
 */
export function safeAnnotations(
  annotations: Record<string, string>,
): Record<string, string> | Map<string, string> {
  // Anything else (a caller's bug) is left for the library to refuse at run time: fails closed.
  if (typeof annotations !== 'object' || annotations === null || annotations instanceof Map)
    return annotations;
  if (!hasOwn(annotations, 'constructor') && !hasOwn(annotations, '__proto__')) return annotations;
  return new Map(Object.entries(annotations));
}

export class CelPodMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly annotations: Record<string, string> | Map<string, string>;
  readonly error_code: string;
  readonly error_message: string;
  constructor(pod: PodVars) {
    this.name = pod.name;
    this.namespace = pod.namespace;
    this.annotations = safeAnnotations(pod.annotations);
    this.error_code = pod.errorCode;
    this.error_message = pod.errorMessage;
  }
}

export class CelPod {
  readonly id: string;
  readonly metadata: CelPodMetadata;
  constructor(pod: PodVars) {
    this.id = pod.id;
    this.metadata = new CelPodMetadata(pod);
  }
}

export class CelK8s {
  readonly pod: CelPod;
  readonly cluster: string;
  constructor(pod: PodVars) {
    this.pod = new CelPod(pod);
    this.cluster = pod.cluster;
  }
}

/**
 * `conn.k8s` of a pod view: built once per shared (frozen) view, since the identity package
 * hands every connection of a pod the same frozen view; a view that may still change gets its own.
 */
const k8sViews = new WeakMap<PodVars, CelK8s>();

export function celK8sOf(pod: PodVars): CelK8s {
  const known = k8sViews.get(pod);
  if (known !== undefined) return known;
  const k8s = new CelK8s(pod);
  if (Object.isFrozen(pod) && Object.isFrozen(pod.annotations)) k8sViews.set(pod, Object.freeze(k8s));
  return k8s;
}

export class CelConnTs {
  constructor(readonly start: Date) {}
}

export class CelConn {
  readonly client_ip: string;
  readonly client_port: bigint;
  readonly server_ip: string;
  readonly server_port: bigint;
  readonly ts: CelConnTs;
  readonly k8s: CelK8s;
  constructor(conn: ConnInfo, pod: PodVars) {
    this.client_ip = conn.clientIp;
    this.client_port = BigInt(conn.clientPort);
    this.server_ip = conn.serverIp;
    this.server_port = BigInt(conn.serverPort);
    this.ts = new CelConnTs(conn.startedAt);
    this.k8s = celK8sOf(pod);
  }
}

/** `endpoint.*`: fixed per endpoint, built once at load. */
export class CelEndpoint {
  constructor(
    readonly url: string,
    readonly name: string,
    readonly namespace: string,
    readonly host: string,
    readonly port: bigint,
    readonly scheme: string,
    readonly binding: string,
    readonly kind: string,
  ) {}
}

/** The root object handed to the CEL library for one evaluation. */
export class Activation {
  constructor(
    readonly conn: CelConn,
    readonly endpoint: CelEndpoint,
    public vars: Record<string, unknown>,
    public actions: Record<string, unknown>,
  ) {}
}

export const CEL_TYPES = {
  'podgate.PodMetadata': {
    ctor: CelPodMetadata,
    fields: {
      name: 'string',
      namespace: 'string',
      annotations: 'map<string, string>',
      error_code: 'string',
      error_message: 'string',
    },
  },
  'podgate.Pod': { ctor: CelPod, fields: { id: 'string', metadata: 'podgate.PodMetadata' } },
  'podgate.K8s': { ctor: CelK8s, fields: { pod: 'podgate.Pod', cluster: 'string' } },
  'podgate.ConnTs': { ctor: CelConnTs, fields: { start: 'google.protobuf.Timestamp' } },
  'podgate.Conn': {
    ctor: CelConn,
    fields: {
      client_ip: 'string',
      client_port: 'int',
      server_ip: 'string',
      server_port: 'int',
      ts: 'podgate.ConnTs',
      k8s: 'podgate.K8s',
    },
  },
  'podgate.Endpoint': {
    ctor: CelEndpoint,
    fields: {
      url: 'string',
      name: 'string',
      namespace: 'string',
      host: 'string',
      port: 'int',
      scheme: 'string',
      binding: 'string',
      kind: 'string',
    },
  },
} as const;
