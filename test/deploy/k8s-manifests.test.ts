/**
 * deploy/k8s/: every kustomization renders (kustomize, offline) and every object validates
 * against strict schemas (scripts/k8s-validate.ts); a typo fails; and the manifests agree with
 * the gateway's config, its metrics and deploy/prometheus/alerts.yml.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, type ServerConfig } from '../../src/config/index.js';
import { Metrics } from '../../src/telemetry/index.js';
import { ALERTS, PROMETHEUS_RULE, prometheusRule } from '../../scripts/k8s-prometheusrule.js';
import { K8S_DIR, K8S_TARGETS, ManifestValidator, findRenderer, render, type K8sObject } from '../../scripts/k8s-validate.js';
import { ROOT } from '../helpers/cli.js';

const renderer = findRenderer();
const validator = new ManifestValidator();
const rendered = new Map<string, K8sObject[]>();
let scratch = '';

beforeAll(() => {
  if (renderer === null) throw new Error('no kustomize renderer (kubectl or .tools/bin/kustomize): .ci/run installs one');
  for (const target of K8S_TARGETS) rendered.set(target, render(path.join(K8S_DIR, target), renderer));
  scratch = mkdtempSync(path.join(tmpdir(), 'switchyard-k8s-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const objects = (target: string) => rendered.get(target)!;
const find = (target: string, kind: string, name?: string): K8sObject => {
  const o = objects(target).find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (o === undefined) throw new Error(`${target} renders no ${kind}${name === undefined ? '' : `/${name}`}`);
  return o;
};

interface Container {
  name: string;
  args: string[];
  ports: { name?: string; containerPort: number }[];
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  startupProbe: { httpGet: { path: string }; periodSeconds: number; failureThreshold: number };
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts: { name: string; mountPath: string }[];
  resources: { requests: { cpu: string; memory: string } };
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes: { name: string; emptyDir?: unknown; configMap?: { name: string } }[];
}
const podSpec = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;

/** The gateway config a rendered switchyard-config ConfigMap holds, loaded as the gateway would. */
function gatewayConfig(target: string): ServerConfig {
  const cm = objects(target).find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('switchyard-config'))!;
  const file = path.join(scratch, `${target.replace(/\//g, '-')}.yaml`);
  writeFileSync(file, (cm.data as Record<string, string>)['switchyard.yaml']!);
  return loadServerConfig(file, {});
}

describe('deploy/k8s/ renders and validates offline', () => {
  it.each(K8S_TARGETS)('%s: every object matches its schema', (target) => {
    expect(objects(target).length).toBeGreaterThan(0);
    expect(objects(target).flatMap((o) => validator.validate(o))).toEqual([]);
  });

  it('has a schema for every kind it renders, and the kinds the issue asks for are there', () => {
    const kinds = new Set([...rendered.values()].flat().map((o) => `${o.apiVersion}/${o.kind}`));
    for (const k of kinds) expect(validator.kinds()).toContain(k);
    for (const k of ['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PrometheusRule']) find('overlays/redis', k);
    for (const k of ['ServingRuntime', 'InferenceService']) find('kserve', k);
  });
});

describe('a mistake in a manifest fails validation', () => {
  const deployment = () => structuredClone(find('overlays/redis', 'Deployment', 'switchyard'));

  it('a misspelt field in a rendered Deployment', () => {
    const d = deployment();
    const port = podSpec(d).containers[0]!.ports[0] as unknown as Record<string, unknown>;
    port.contianerPort = port.containerPort;
    delete port.containerPort;
    const problems = validator.validate(d);
    expect(problems).toContain('Deployment/switchyard at /spec/template/spec/containers/0/ports/0: unknown field "contianerPort"');
    expect(problems.join('\n')).toMatch(/must have required property 'containerPort'/);
  });

  it('a wrong type and a value outside an enum', () => {
    const d = deployment();
    (d.spec as Record<string, unknown>).replicas = 'three';
    (podSpec(d).containers[0]!.ports[0] as unknown as Record<string, unknown>).protocol = 'HTTP';
    const problems = validator.validate(d).join('\n');
    expect(problems).toMatch(/at \/spec\/replicas: must be integer/);
    expect(problems).toMatch(/ports\/0\/protocol: must be equal to one of the allowed values/);
  });

  it('misspelt fields in custom resources (ServingRuntime, ServiceMonitor, PrometheusRule)', () => {
    const runtime = structuredClone(find('kserve', 'ServingRuntime'));
    const spec = runtime.spec as Record<string, unknown>;
    spec.protocolVersion = spec.protocolVersions;
    delete spec.protocolVersions;
    expect(validator.validate(runtime)).toContain('ServingRuntime/switchyard at /spec: unknown field "protocolVersion"');
    const monitor = structuredClone(find('base', 'ServiceMonitor'));
    ((monitor.spec as { endpoints: Record<string, unknown>[] }).endpoints[0]!).intervall = '15s';
    expect(validator.validate(monitor)).toContain('ServiceMonitor/switchyard at /spec/endpoints/0: unknown field "intervall"');
    const rule = structuredClone(find('base', 'PrometheusRule'));
    ((rule.spec as { groups: { rules: Record<string, unknown>[] }[] }).groups[0]!.rules[0]!).for = '5 minutes';
    expect(validator.validate(rule).join('\n')).toMatch(/rules\/0\/for: must match pattern/);
  });

  it('a kind without a schema is an error, not a skip', () => {
    expect(validator.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([expect.stringMatching(/no schema for example.com\/v1\/Widget/)]);
  });

  it('a typo in a manifest file fails the render-and-validate pipeline', () => {
    const copy = path.join(scratch, 'k8s-copy');
    cpSync(K8S_DIR, copy, { recursive: true });
    const file = path.join(copy, 'base', 'deployment.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('readinessProbe:', 'readinesProbe:'));
    const problems = render(path.join(copy, 'overlays', 'embedded'), renderer).flatMap((o) => validator.validate(o));
    expect(problems).toContain('Deployment/switchyard at /spec/template/spec/containers/0: unknown field "readinesProbe"');
  });
});

describe('the manifests agree with the gateway', () => {
  it.each(['overlays/embedded', 'overlays/redis'])('%s: its config loads; ports, probes, grace period and writable folders fit it', (target) => {
    const config = gatewayConfig(target);
    const pod = podSpec(find(target, 'Deployment', 'switchyard'));
    const c = pod.containers[0]!;
    expect(c.args).toEqual(['serve', '--config', '/etc/switchyard/switchyard.yaml']);
    expect(c.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'http', containerPort: config.http.port }), expect.objectContaining({ name: 'grpc', containerPort: config.grpc.port })]));
    expect(c.livenessProbe.httpGet.path).toBe('/v2/health/live');
    expect(c.readinessProbe.httpGet.path).toBe('/v2/health/ready');
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(120);
    // SIGTERM arrives after preStop; the drain and the request log's flush must fit before SIGKILL
    const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(preStop[1]) + config.drain_timeout_s + config.request_log.close_timeout_s);
    // non-root on a read-only root: every file the config writes lies in an emptyDir
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    const emptyDirs = new Set(pod.volumes.filter((v) => v.emptyDir !== undefined).map((v) => v.name));
    const writable = c.volumeMounts.filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
    expect(writable).toContain('/tmp');
    for (const sink of config.request_log.sinks) {
      if (sink.type === 'file') expect(writable.some((dir) => sink.path.startsWith(dir + '/'))).toBe(true);
    }
    // ONNX Runtime's threads are the CPU request, not the node's cores
    expect(config.threads).toBe(Number(c.resources.requests.cpu));
    // the config's paths are the image's (scripts/image-build.sh lays out /app)
    expect(config.model_repository).toBe('/app/examples/models');
  });

  it('the Service names the ports the pods open, gRPC with an HTTP/2 appProtocol', () => {
    const svc = find('overlays/redis', 'Service', 'switchyard').spec as { ports: { name: string; port: number; targetPort: string; appProtocol: string }[]; selector: Record<string, string> };
    expect(svc.ports).toEqual([
      expect.objectContaining({ name: 'http', port: 8000, targetPort: 'http', appProtocol: 'http' }),
      expect.objectContaining({ name: 'grpc', port: 8001, targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c' }),
    ]);
    // the gateway Service must not select the Redis pods
    const redis = find('overlays/redis', 'Deployment', 'switchyard-redis');
    const redisLabels = (redis.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(Object.entries(svc.selector).every(([k, v]) => redisLabels[k] === v)).toBe(false);
  });

  it('embedded runs one replica without an autoscaler; redis runs several, pointed at its Redis Service', () => {
    expect((find('overlays/embedded', 'Deployment', 'switchyard').spec as { replicas: number }).replicas).toBe(1);
    expect(objects('overlays/embedded').some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    expect(gatewayConfig('overlays/embedded').redis.url).toBeNull();
    expect((find('overlays/redis', 'Deployment', 'switchyard').spec as { replicas: number }).replicas).toBeGreaterThan(1);
    const url = new URL(gatewayConfig('overlays/redis').redis.url!);
    const redisSvc = find('overlays/redis', 'Service', url.hostname).spec as { ports: { port: number }[] };
    expect(redisSvc.ports.map((p) => p.port)).toContain(Number(url.port));
  });

  it('the admin token comes from the Secret, as SWITCHYARD_ADMIN_TOKEN', () => {
    const c = podSpec(find('overlays/redis', 'Deployment', 'switchyard')).containers[0] as unknown as { env: { name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] };
    const ref = c.env.find((e) => e.name === 'SWITCHYARD_ADMIN_TOKEN')?.valueFrom?.secretKeyRef;
    const secret = find('overlays/redis', 'Secret', ref?.name);
    expect(Object.keys((secret.stringData ?? secret.data) as Record<string, string>)).toContain(ref?.key);
  });

  it('the autoscaler and the adapter rule use a metric the gateway exports', async () => {
    const metrics = new Metrics(() => []);
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    metrics.close();
    const hpa = find('overlays/redis', 'HorizontalPodAutoscaler').spec as { metrics: { type: string; pods?: { metric: { name: string } } }[]; minReplicas: number };
    const names = hpa.metrics.flatMap((m) => (m.pods === undefined ? [] : [m.pods.metric.name]));
    expect(names).toEqual(['switchyard_queue_depth']);
    for (const n of names) expect(exported).toContain(n);
    const adapter = parse((find('prometheus-adapter', 'ConfigMap').data as Record<string, string>)['config.yaml']!) as { rules: { seriesQuery: string; name: { as: string } }[] };
    expect(adapter.rules.map((r) => r.name.as)).toEqual(names);
    expect(adapter.rules[0]!.seriesQuery).toMatch(/^switchyard_queue_depth\{/);
  });

  it('the PrometheusRule is deploy/prometheus/alerts.yml (regenerate: npx tsx scripts/k8s-prometheusrule.ts)', () => {
    expect(readFileSync(PROMETHEUS_RULE, 'utf8')).toBe(prometheusRule(readFileSync(ALERTS, 'utf8')));
    const groups = (find('base', 'PrometheusRule').spec as { groups: unknown[] }).groups;
    expect(groups).toEqual((parse(readFileSync(ALERTS, 'utf8')) as { groups: unknown[] }).groups);
  });
});

describe('the KServe runtime', () => {
  it('serves /mnt/models as the InferenceService-named model on KServe ports, v2, ONNX', () => {
    const runtime = find('kserve', 'ServingRuntime').spec as {
      supportedModelFormats: { name: string }[];
      protocolVersions: string[];
      containers: { name: string; args: string[]; ports: { containerPort: number }[] }[];
    };
    expect(runtime.supportedModelFormats.map((f) => f.name)).toContain('onnx');
    expect(runtime.protocolVersions).toEqual(expect.arrayContaining(['v2', 'grpc-v2']));
    const c = runtime.containers[0]!;
    expect(c.name).toBe('kserve-container');
    const args = c.args;
    expect(args.slice(args.indexOf('--model-name'), args.indexOf('--model-name') + 2)).toEqual(['--model-name', '{{.Name}}']);
    // the config path is where scripts/image-build.sh puts deploy/k8s/kserve/switchyard-kserve.yaml
    expect(args.slice(args.indexOf('--config'), args.indexOf('--config') + 2)).toEqual(['--config', '/app/config/kserve.yaml']);
    expect(readFileSync(path.join(ROOT, 'scripts', 'image-build.sh'), 'utf8')).toContain('cp "$src/deploy/k8s/kserve/switchyard-kserve.yaml" "$dest/config/kserve.yaml"');
    const config = loadServerConfig(path.join(K8S_DIR, 'kserve', 'switchyard-kserve.yaml'), {});
    expect(config.model_repository).toBe('/mnt/models');
    expect(config.http.port).toBe(8080);
    expect(config.grpc.port).toBe(9000);
    expect(c.ports.map((p) => p.containerPort)).toEqual([config.http.port]);
    const isvc = find('kserve', 'InferenceService').spec as { predictor: { model: { runtime: string; protocolVersion: string; modelFormat: { name: string } } } };
    expect(isvc.predictor.model).toMatchObject({ runtime: 'switchyard', protocolVersion: 'v2', modelFormat: { name: 'onnx' } });
  });
});
