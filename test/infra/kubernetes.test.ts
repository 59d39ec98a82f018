// infra/kubernetes checked offline: every kustomization renders (kubectl kustomize), every
// object it renders is valid against the Kubernetes schema, and our own policies hold: each
// container has requests, limits, probes and a locked-down securityContext; the readers have
// no Kubernetes access; the watcher's access is least privilege; every reference resolves;
// and every podgate command line is one the CLI accepts, in the environment it gets.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCommandLine, EXIT, main } from '@podgate/cli';
import { captureIo } from '@podgate/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { proxyEntrypoint } from './dockerfile.js';
import { schemaProblem } from './k8s-schema.js';
import { type K8sObject, kustomizations, render, renderer } from './kustomize.js';

const root = new URL('../..', import.meta.url).pathname;
const all = kustomizations(root, 'infra/kubernetes');
const overlays = all.filter((d) => d.includes('/overlays/'));
const tmp = mkdtempSync(join(tmpdir(), 'podgate-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Without a renderer the checks cannot run: CI must have one (.ci/run says so), a developer
// sees them skipped.
const haveRenderer = renderer !== undefined;
const rendered = new Map<string, K8sObject[]>();
const objects = (dir: string) => {
  if (!rendered.has(dir)) rendered.set(dir, render(root, dir));
  return rendered.get(dir)!;
};

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, { name?: string; key?: string }> }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string } }>;
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const deployments = (list: K8sObject[]) => list.filter((o): o is Workload => o.kind === 'Deployment');
const byKind = (list: K8sObject[], kind: string, name: string) =>
  list.find((o) => o.kind === kind && o.metadata.name === name);
const component = (d: Workload) => d.spec.template.metadata.labels['app.kubernetes.io/component'];
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const containersOf = (d: Workload) => [
  ...d.spec.template.spec.containers,
  ...(d.spec.template.spec.initContainers ?? []),
];

/** The environment Kubernetes gives a container: literals, ConfigMap and Secret keys, the downward API. */
function environment(list: K8sObject[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const from = e.valueFrom ?? {};
    if (from.configMapKeyRef) {
      const cm = byKind(list, 'ConfigMap', from.configMapKeyRef.name!) as
        | { data?: Record<string, string> }
        | undefined;
      const value = cm?.data?.[from.configMapKeyRef.key!];
      if (value !== undefined) env[e.name] = value;
    }
    if (from.secretKeyRef) {
      const secret = byKind(list, 'Secret', from.secretKeyRef.name!) as
        | { data?: Record<string, string> }
        | undefined;
      const value = secret?.data?.[from.secretKeyRef.key!];
      if (value !== undefined) env[e.name] = Buffer.from(value, 'base64').toString('utf8');
    }
    if (from.fieldRef) env[e.name] = 'from-the-downward-api';
  }
  return env;
}

/** `$(VAR)` in args, as the kubelet expands it. */
const expand = (args: string[], env: Record<string, string>) =>
  args.map((a) => a.replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole));

describe.runIf(haveRenderer || process.env.CI)('infra/kubernetes', () => {
  it('has a base and overlays for one cluster and for several', () => {
    expect(
      renderer,
      'kubectl (or kustomize) is missing: .ci/run needs it to check infra/kubernetes',
    ).toBeDefined();
    expect(all).toContain('infra/kubernetes/base');
    expect(overlays).toEqual(
      expect.arrayContaining([
        'infra/kubernetes/overlays/single-cluster',
        'infra/kubernetes/overlays/multi-cluster/cluster-a',
        'infra/kubernetes/overlays/multi-cluster/cluster-b',
      ]),
    );
  });

  it.each(all)('%s renders, and every object is valid against the Kubernetes schema', (dir) => {
    const list = objects(dir);
    expect(list.length).toBeGreaterThan(0);
    const problems = list
      .map((o) => [`${o.kind}/${o.metadata.name}`, schemaProblem(o)])
      .filter(([, p]) => p !== undefined);
    expect(problems).toEqual([]);
  });

  it.each(all)(
    '%s: every container has requests, limits, probes and a locked-down securityContext',
    (dir) => {
      const problems: string[] = [];
      for (const d of deployments(objects(dir))) {
        const pod = d.spec.template.spec;
        for (const c of containersOf(d)) {
          const where = `${d.metadata.name}/${c.name}`;
          const sc = c.securityContext ?? {};
          for (const r of ['cpu', 'memory']) {
            if (!c.resources?.requests?.[r]) problems.push(`${where}: no ${r} request`);
            if (!c.resources?.limits?.[r]) problems.push(`${where}: no ${r} limit`);
          }
          if (!c.livenessProbe) problems.push(`${where}: no liveness probe`);
          if (!c.readinessProbe) problems.push(`${where}: no readiness probe`);
          if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true)
            problems.push(`${where}: runAsNonRoot`);
          if (((sc.runAsUser ?? pod.securityContext?.runAsUser) as number | undefined) === 0) {
            problems.push(`${where}: runs as root`);
          }
          if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem`);
          if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation`);
          if (sc.privileged === true) problems.push(`${where}: privileged`);
          if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities not dropped`);
          const seccomp =
            (sc.seccompProfile as { type?: string } | undefined)?.type ??
            pod.securityContext?.seccompProfile?.type;
          if (seccomp !== 'RuntimeDefault') problems.push(`${where}: seccomp profile ${seccomp}`);
        }
      }
      expect(problems).toEqual([]);
    },
  );

  it.each(all)(
    '%s: the proxy runs the image’s entrypoint with Maglev off; the watcher and the decision service the image’s own',
    (dir) => {
      const entry = proxyEntrypoint(readFileSync(join(root, 'infra/docker/Dockerfile'), 'utf8'));
      for (const d of deployments(objects(dir))) {
        const [c] = containersOf(d);
        if (component(d) === 'proxy') expect(c!.command, d.metadata.name).toEqual(entry);
        else expect(c!.command, d.metadata.name).toBeUndefined();
      }
    },
  );

  it('runs the image the Dockerfile builds (podgate:dev in the base; overlays may retag it)', () => {
    for (const d of deployments(objects('infra/kubernetes/base'))) {
      for (const c of containersOf(d)) expect(c.image, d.metadata.name).toBe('podgate:dev');
    }
  });

  it.each(all)(
    '%s: the readers have no Kubernetes access; the watcher reads pods and its Lease only',
    (dir) => {
      const list = objects(dir);
      const accountOf = (d: Workload) => d.spec.template.spec.serviceAccountName;
      const bindings = list.filter(
        (o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding',
      ) as Array<
        K8sObject & {
          roleRef: { kind: string; name: string };
          subjects?: Array<{ kind: string; name: string }>;
        }
      >;
      const boundAccounts = bindings.flatMap((b) => (b.subjects ?? []).map((s) => s.name));
      for (const d of deployments(list)) {
        const account = accountOf(d);
        expect(account, `${d.metadata.name}: its own service account`).toBeDefined();
        if (component(d) === 'watcher') continue;
        expect(d.spec.template.spec.automountServiceAccountToken, d.metadata.name).toBe(false);
        expect(
          (byKind(list, 'ServiceAccount', account!) as { automountServiceAccountToken?: boolean })
            ?.automountServiceAccountToken,
        ).toBe(false);
        expect(boundAccounts, `${d.metadata.name} is bound to a role`).not.toContain(account);
      }
      const watcher = deployments(list).find((d) => component(d) === 'watcher')!;
      const rules = bindings
        .filter((b) => (b.subjects ?? []).some((s) => s.name === accountOf(watcher)))
        .flatMap((b) => {
          const role = byKind(list, b.roleRef.kind, b.roleRef.name) as
            | {
                rules: Array<{
                  apiGroups: string[];
                  resources: string[];
                  verbs: string[];
                  resourceNames?: string[];
                }>;
              }
            | undefined;
          expect(role, `${b.kind}/${b.metadata.name} -> ${b.roleRef.kind}/${b.roleRef.name}`).toBeDefined();
          return role!.rules.flatMap((r) =>
            r.resources.flatMap((res) =>
              r.verbs.map(
                (v) => `${r.apiGroups.join(',')}/${res}:${v}${r.resourceNames ? `[${r.resourceNames}]` : ''}`,
              ),
            ),
          );
        });
      expect(rules.sort()).toEqual(
        [
          '/pods:get',
          '/pods:list',
          '/pods:watch',
          'coordination.k8s.io/leases:create',
          'coordination.k8s.io/leases:get[podgate-watcher]',
          'coordination.k8s.io/leases:update[podgate-watcher]',
        ].sort(),
      );
    },
  );

  it.each(all)(
    '%s: selectors match their pods, Services their ports, the autoscaler and budgets their Deployments',
    (dir) => {
      const list = objects(dir);
      const pods = deployments(list);
      for (const d of pods)
        expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(
          true,
        );
      for (const s of list.filter((o) => o.kind === 'Service') as Array<
        K8sObject & {
          spec: { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> };
        }
      >) {
        const target = pods.find((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
        expect(target, `Service ${s.metadata.name} selects no Deployment`).toBeDefined();
        const ports = target!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
        for (const p of s.spec.ports) {
          expect(
            ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
            `${s.metadata.name}: ${p.targetPort}`,
          ).toBe(true);
        }
      }
      for (const b of list.filter((o) => o.kind === 'PodDisruptionBudget') as Array<
        K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }
      >) {
        expect(
          pods.some((d) => matches(b.spec.selector.matchLabels, d.spec.template.metadata.labels)),
          b.metadata.name,
        ).toBe(true);
      }
      const hpas = list.filter((o) => o.kind === 'HorizontalPodAutoscaler') as Array<
        K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }
      >;
      expect(hpas.map((h) => h.spec.scaleTargetRef.name)).toEqual(
        pods.filter((d) => component(d) === 'decision').map((d) => d.metadata.name),
      );
      for (const h of hpas) {
        expect(byKind(list, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name)).toBeDefined();
        expect(h.spec.minReplicas).toBeGreaterThanOrEqual(2);
      }
      const watcher = pods.find((d) => component(d) === 'watcher')!;
      expect(watcher.spec.replicas).toBe(2);
      expect(watcher.spec.template.spec.containers[0]!.args).toContain('--leader-elect');
    },
  );

  it.each(overlays)('%s: every ConfigMap and Secret a pod uses is rendered with it', (dir) => {
    const list = objects(dir);
    const missing: string[] = [];
    for (const d of deployments(list)) {
      for (const c of containersOf(d)) {
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef;
          const secret = e.valueFrom?.secretKeyRef;
          const found = cm
            ? (byKind(list, 'ConfigMap', cm.name!) as { data?: Record<string, string> } | undefined)?.data?.[
                cm.key!
              ]
            : secret
              ? (byKind(list, 'Secret', secret.name!) as { data?: Record<string, string> } | undefined)
                  ?.data?.[secret.key!]
              : '';
          if (found === undefined) missing.push(`${d.metadata.name}/${c.name} env ${e.name}`);
        }
      }
      for (const v of d.spec.template.spec.volumes ?? []) {
        if (v.configMap && !byKind(list, 'ConfigMap', v.configMap.name))
          missing.push(`${d.metadata.name} volume ${v.name}`);
        if (v.secret && !byKind(list, 'Secret', v.secret.secretName))
          missing.push(`${d.metadata.name} volume ${v.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(overlays)(
    '%s: every podgate command line is accepted, and the files it names are mounted and load',
    async (dir) => {
      const list = objects(dir);
      for (const d of deployments(list)) {
        for (const c of containersOf(d)) {
          const env = environment(list, c);
          const args = expand(c.args ?? [], env);
          expect(checkCommandLine(args, env), `${d.metadata.name}: podgate ${args.join(' ')}`).toMatchObject({
            ok: true,
          });
          for (const flag of ['config', 'token-file', 'pods-file']) {
            const path = args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
            if (path === undefined) continue;
            const mount = (c.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
            expect(mount, `${d.metadata.name}: ${path} is on no volume`).toBeDefined();
            const volume = d.spec.template.spec.volumes?.find((v) => v.name === mount!.name);
            const key = path.slice(mount!.mountPath.length + 1);
            const source = volume?.configMap
              ? (byKind(list, 'ConfigMap', volume.configMap.name) as { data?: Record<string, string> })
                  ?.data?.[key]
              : volume?.secret
                ? Buffer.from(
                    (byKind(list, 'Secret', volume.secret.secretName) as { data?: Record<string, string> })
                      ?.data?.[key] ?? '',
                    'base64',
                  ).toString('utf8')
                : undefined;
            expect(source, `${d.metadata.name}: ${path} (key ${key})`).toBeDefined();
            if (flag === 'config') {
              const file = join(tmp, `${d.metadata.name}.yaml`);
              writeFileSync(file, source!);
              const { io, captured } = captureIo();
              expect(await main(['validate', file], io), captured.stderr).toBe(EXIT.ok);
            }
          }
        }
      }
    },
  );

  it('multi-cluster: each cluster has its own name; its readers consult both clusters, its watcher writes its own', () => {
    const names = new Set<string>();
    for (const cluster of ['cluster-a', 'cluster-b']) {
      const list = objects(`infra/kubernetes/overlays/multi-cluster/${cluster}`);
      for (const d of deployments(list)) {
        const c = d.spec.template.spec.containers[0]!;
        const env = environment(list, c);
        const clusters = (c.args ?? []).filter((a) => a.startsWith('--cluster=')).map((a) => a.slice(10));
        if (component(d) === 'watcher') {
          expect(clusters).toEqual([]);
          expect(env.PODGATE_CLUSTER).toBe(cluster);
          names.add(env.PODGATE_CLUSTER!);
        } else {
          expect(clusters.sort(), d.metadata.name).toEqual(['cluster-a', 'cluster-b']);
        }
      }
    }
    expect(names.size).toBe(2);
  });
});
