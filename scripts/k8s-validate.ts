/**
 * Renders deploy/k8s/ with kustomize and validates every object offline against strict JSON
 * Schemas: deploy/k8s/schemas/kubernetes.json (generated from the Kubernetes OpenAPI by
 * scripts/k8s-schemas.ts) and deploy/k8s/schemas/crds.json (the custom resources used here).
 * A kind with no schema is an error, not a skip.
 *
 *   npx tsx scripts/k8s-validate.ts            # every folder in K8S_TARGETS
 *
 * The renderer is, in order: $KUSTOMIZE (a kustomize binary), .tools/bin/kustomize (what
 * .ci/run installs when kubectl is missing), `kubectl kustomize`, kustomize on the PATH.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const K8S_DIR = path.join(ROOT, 'deploy', 'k8s');
/** the kustomizations users apply, relative to deploy/k8s */
export const K8S_TARGETS = ['base', 'overlays/embedded', 'overlays/redis', 'prometheus-adapter', 'kserve'] as const;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

/** argv of the kustomize renderer found here, to which the folder is appended; null when none. */
export function findRenderer(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const onPath = (cmd: string): boolean => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };
  if (env.KUSTOMIZE !== undefined && env.KUSTOMIZE !== '') return [env.KUSTOMIZE, 'build'];
  const local = path.join(ROOT, '.tools', 'bin', 'kustomize');
  if (existsSync(local)) return [local, 'build'];
  if (onPath('kubectl')) return ['kubectl', 'kustomize'];
  if (onPath('kustomize')) return ['kustomize', 'build'];
  return null;
}

/** The objects a kustomization renders to. */
export function render(dir: string, renderer: string[] | null = findRenderer()): K8sObject[] {
  if (renderer === null) throw new Error('no kustomize renderer: install kubectl, or run .ci/run (it builds .tools/bin/kustomize)');
  const [cmd, ...args] = renderer;
  const out = execFileSync(cmd!, [...args, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseYamlObjects(out);
}

export function parseYamlObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

interface SchemaDocument {
  kinds: Record<string, string>;
  definitions: Record<string, unknown>;
}

/** Validates objects against the committed schemas; one reusable instance. */
export class ManifestValidator {
  private readonly byKind = new Map<string, ValidateFunction>();

  constructor() {
    const read = (file: string) => JSON.parse(readFileSync(path.join(K8S_DIR, 'schemas', file), 'utf8')) as SchemaDocument;
    const kubernetes = read('kubernetes.json');
    const crds = read('crds.json');
    // strict: false — the Kubernetes schemas use keywords (x-kubernetes-*) and formats ajv does not know
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addSchema({ $id: 'kubernetes.json', definitions: kubernetes.definitions });
    ajv.addSchema({ $id: 'crds.json', definitions: crds.definitions });
    for (const [gvk, def] of Object.entries(kubernetes.kinds)) this.byKind.set(gvk, ajv.compile({ $ref: `kubernetes.json#/definitions/${def}` }));
    for (const [gvk, def] of Object.entries(crds.kinds)) this.byKind.set(gvk, ajv.compile({ $ref: `crds.json#/definitions/${def}` }));
  }

  /** The kinds (apiVersion/kind) there are schemas for. */
  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  /** Problems of one object, each "Kind/name at /json/pointer: message"; [] when valid. */
  validate(obj: K8sObject): string[] {
    const gvk = `${String(obj.apiVersion)}/${String(obj.kind)}`;
    const name = `${String(obj.kind)}/${String(obj.metadata?.name)}`;
    const check = this.byKind.get(gvk);
    if (check === undefined) return [`${name}: no schema for ${gvk} (add it to scripts/k8s-schemas.ts or deploy/k8s/schemas/crds.json)`];
    if (check(obj)) return [];
    return (check.errors ?? []).map((e) => `${name} at ${e.instancePath || '/'}: ${describe(e)}`);
  }
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  return e.message ?? e.keyword;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const validator = new ManifestValidator();
  let failed = 0;
  for (const target of K8S_TARGETS) {
    const objects = render(path.join(K8S_DIR, target));
    const problems = objects.flatMap((o) => validator.validate(o));
    failed += problems.length;
    process.stdout.write(`${target}: ${objects.length} objects, ${problems.length === 0 ? 'valid' : `${problems.length} problems`}\n`);
    for (const p of problems) process.stdout.write(`  ${p}\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}
