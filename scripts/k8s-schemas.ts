/**
 * Writes deploy/k8s/schemas/kubernetes.json: strict JSON Schemas of the Kubernetes kinds that
 * deploy/k8s/ uses, for the offline validation in test/deploy/k8s-manifests.test.ts.
 *
 *   npx tsx scripts/k8s-schemas.ts
 *
 * Source: the Kubernetes OpenAPI documents that Go modules of the Kubernetes project carry as
 * test data (fetched with `go mod download` into .tools/go, nothing installed elsewhere):
 * k8s.io/kubectl's OpenAPI v3 documents (core/v1, apps/v1, autoscaling/v2) and, for policy/v1,
 * k8s.io/cli-runtime's OpenAPI v2 document. The output keeps the types, enums and required
 * fields, drops descriptions and patch hints, and, like kubeconform's strict mode, forbids keys
 * a type does not declare, so that a misspelt field fails validation as the API server's strict
 * field validation would reject it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'deploy', 'k8s', 'schemas', 'kubernetes.json');
const MODULES = ['k8s.io/kubectl@v0.32.4', 'k8s.io/cli-runtime@v0.32.4'] as const;
/** group/version/kind → definition, for every kind deploy/k8s/ may use */
const KINDS: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'io.k8s.api.core.v1.ConfigMap',
  'v1/Secret': 'io.k8s.api.core.v1.Secret',
  'v1/Service': 'io.k8s.api.core.v1.Service',
  'v1/ServiceAccount': 'io.k8s.api.core.v1.ServiceAccount',
  'apps/v1/Deployment': 'io.k8s.api.apps.v1.Deployment',
  'autoscaling/v2/HorizontalPodAutoscaler': 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'io.k8s.api.policy.v1.PodDisruptionBudget',
};

type Schema = Record<string, unknown>;

function moduleDirs(): Map<string, string> {
  const tools = path.join(ROOT, '.tools', 'go');
  const env = { ...process.env, GOPATH: tools, GOMODCACHE: path.join(tools, 'mod'), GOCACHE: path.join(tools, 'cache'), GOFLAGS: '-modcacherw' };
  const out = execFileSync('go', ['mod', 'download', '-json', ...MODULES], { cwd: path.join(ROOT, '.tools'), env, encoding: 'utf8' });
  const dirs = new Map<string, string>();
  // `go mod download -json` prints one JSON object per module, one after the other
  for (const chunk of out.split(/\n(?=\{)/)) {
    const m = JSON.parse(chunk) as { Path: string; Version: string; Dir: string };
    dirs.set(`${m.Path}@${m.Version}`, m.Dir);
  }
  return dirs;
}

function readDefinitions(): Map<string, Schema> {
  const dirs = moduleDirs();
  const kubectl = dirs.get(MODULES[0])!;
  const cliRuntime = dirs.get(MODULES[1])!;
  const defs = new Map<string, Schema>();
  for (const doc of ['api/v1.json', 'apis/apps/v1.json', 'apis/autoscaling/v2.json']) {
    const v3 = JSON.parse(readFileSync(path.join(kubectl, 'testdata', 'openapi', 'v3', doc), 'utf8')) as { components: { schemas: Record<string, Schema> } };
    for (const [k, v] of Object.entries(v3.components.schemas)) if (!defs.has(k)) defs.set(k, v);
  }
  const v2 = JSON.parse(readFileSync(path.join(cliRuntime, 'artifacts', 'openapi', 'swagger.json'), 'utf8')) as { definitions: Record<string, Schema> };
  for (const [k, v] of Object.entries(v2.definitions)) if (!defs.has(k)) defs.set(k, v);
  return defs;
}

const DROPPED = new Set(['description', 'default', 'format', 'nullable', 'example']);

/** A definition cleaned for ajv, refs pointing at #/definitions/, objects closed. */
function clean(node: unknown, refs: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => clean(n, refs));
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (DROPPED.has(k) || k.startsWith('x-kubernetes-')) continue;
    if (k === '$ref' && typeof v === 'string') {
      const name = v.replace(/^#\/(components\/schemas|definitions)\//, '');
      refs.add(name);
      out.$ref = `#/definitions/${name}`;
      continue;
    }
    // the upstream documents repeat some enum values (ServiceSpec.externalTrafficPolicy)
    if (k === 'enum' && Array.isArray(v)) {
      out.enum = [...new Set(v)];
      continue;
    }
    // property names are data, not keywords: keep every one
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, clean(s, refs)])) : clean(v, refs);
  }
  const n = node as Schema;
  if (out.properties !== undefined && out.additionalProperties === undefined && n['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  // a single-ref allOf (how v3 attaches a description to a ref) is the ref itself
  if (Array.isArray(out.allOf) && out.allOf.length === 1 && Object.keys(out).length === 1) return out.allOf[0];
  return out;
}

function main(): void {
  const defs = readDefinitions();
  const picked: Record<string, unknown> = {};
  const queue = Object.values(KINDS);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (name in picked) continue;
    const def = defs.get(name);
    if (def === undefined) throw new Error(`no definition ${name} in ${MODULES.join(', ')}`);
    const refs = new Set<string>();
    picked[name] = clean(def, refs);
    queue.push(...refs);
  }
  const sorted = Object.fromEntries(Object.entries(picked).sort(([a], [b]) => a.localeCompare(b)));
  const doc = {
    $comment: `generated by scripts/k8s-schemas.ts from the OpenAPI test data of ${MODULES.join(' and ')}; do not edit`,
    kinds: KINDS,
    definitions: sorted,
  };
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(doc, null, 1) + '\n');
  process.stdout.write(`wrote ${path.relative(ROOT, OUT)}: ${Object.keys(sorted).length} definitions\n`);
}

main();
