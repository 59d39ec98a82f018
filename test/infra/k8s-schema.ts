// Kubernetes objects checked against the Kubernetes API's OpenAPI schema offline, with the
// validators the kubernetes-models package generates from it (types, required fields, enums;
// not unknown fields, which the schema allows).
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { K8sObject } from './kustomize.js';

type Model = new (data: never) => { validate(): void };

/** apiVersion/kind -> its model; a kind not listed here is an error, not skipped. */
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/**
 * kustomize folds a long Secret value's base64 over several lines; the API server decodes it
 * ignoring line breaks (Go's base64 decoder skips them), the schema's `byte` format does not.
 */
function normalized(object: K8sObject): K8sObject {
  const data = object.kind === 'Secret' ? (object.data as Record<string, string> | undefined) : undefined;
  if (data === undefined) return object;
  return {
    ...object,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/\s+/g, '')])),
  };
}

/** Undefined when valid, else what is wrong. */
export function schemaProblem(object: K8sObject): string | undefined {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (Model === undefined)
    return `no schema known for ${object.apiVersion} ${object.kind} (add it to k8s-schema.ts)`;
  try {
    new Model(normalized(object) as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
