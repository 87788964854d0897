import { GatewayError, type TensorSpec } from '../core/index.js';
import type { ModelSignature } from '../core/tensor.js';
import { tensorConfig, tritonModelConfig, type ModelConfigJson } from '../protocol/index.js';
import type { IndexEntry, LoadedVersion, ModelRepository } from '../repository/index.js';
import type { Router } from '../routing/index.js';
import type { InferenceStatistics, ModelStatisticsJson, StatisticDuration } from '../telemetry/index.js';

/** The platform a route reports in metadata and config (Triton's ensembles say "ensemble"). */
export const ROUTE_PLATFORM = 'switchyard_route';

/** What a model name is to a client: a served model, or a route whose targets it stands for. */
interface RouteFacts {
  readonly name: string;
  readonly policy: string;
  /** `model:version` of every target, in the route's order */
  readonly targets: readonly string[];
  /** the targets that are READY now */
  readonly ready: readonly LoadedVersion[];
  /** the targets that are not, with why */
  readonly unready: readonly string[];
}

/**
 * The one place transports learn about models: metadata, readiness, configuration,
 * statistics and the repository index, for served models and routes alike. A route answers
 * as a model: its inputs and outputs are what every target accepts and returns (names and
 * datatypes all share; a dim the targets disagree on is -1), and its `parameters` say that it
 * is a route and which targets it has. Asking for a version of a route is refused as infer
 * refuses it: the route's policy picks the version.
 */
export class ModelCatalog {
  private readonly repo: ModelRepository;
  private readonly router: Router;
  private readonly stats: InferenceStatistics;

  constructor(repo: ModelRepository, router: Router, stats: InferenceStatistics) {
    this.repo = repo;
    this.router = router;
    this.stats = stats;
  }

  metadata(name: string, version: string | null): Record<string, unknown> {
    const route = this.route(name, version);
    if (route === null) return modelMetadata(this.repo, name, version);
    const { signature, maxBatchSize } = this.routeSignature(route);
    return {
      name,
      versions: [],
      platform: ROUTE_PLATFORM,
      inputs: signature.inputs,
      outputs: signature.outputs,
      parameters: { route: true, policy: route.policy, targets: route.targets, max_batch_size: maxBatchSize },
    };
  }

  /** Whether the model (version) or every target of the route is ready; unknown names throw 404. */
  ready(name: string, version: string | null): boolean {
    const route = this.route(name, version);
    if (route !== null) return route.unready.length === 0 && route.ready.length > 0;
    if (!this.repo.has(name, version)) this.repo.resolve(name, version); // throws the not-found error with its message
    return this.repo.isReady(name, version);
  }

  config(name: string, version: string | null): ModelConfigJson {
    const route = this.route(name, version);
    if (route === null) return tritonModelConfig(this.repo.resolve(name, version));
    const { signature, maxBatchSize } = this.routeSignature(route);
    const base = tritonModelConfig(route.ready[0]);
    const batched = maxBatchSize > 0;
    const out: ModelConfigJson = {
      ...base,
      name,
      platform: ROUTE_PLATFORM,
      backend: '',
      max_batch_size: maxBatchSize,
      input: signature.inputs.map((t) => tensorConfig(t, batched)),
      output: signature.outputs.map((t) => tensorConfig(t, batched)),
      instance_group: [],
      default_model_filename: '',
      parameters: {
        route: { string_value: 'true' },
        policy: { string_value: route.policy },
        targets: { string_value: route.targets.join(',') },
      },
    };
    if (!batched) delete out.dynamic_batching;
    return out;
  }

  /**
   * Triton-style statistics of every served version (name null), of every served version of a
   * model, of one version, or of a route: one entry named as the route, summing its targets'
   * statistics (everything those versions served, through the route or called by name).
   */
  statistics(name: string | null, version: string | null): ModelStatisticsJson[] {
    if (name !== null) {
      const route = this.route(name, version);
      if (route !== null) return [sumStatistics(name, route.targets.map((t) => this.statsOf(t)))];
    }
    if (name !== null && version !== null) {
      const v = this.repo.resolve(name, version);
      return [this.stats.snapshot(v.name, v.version)];
    }
    if (name !== null) this.repo.resolve(name, null);
    return this.repo
      .served()
      .filter((v) => name === null || v.name === name)
      .sort((a, b) => (a.name === b.name ? Number(a.version) - Number(b.version) : a.name < b.name ? -1 : 1))
      .map((v) => this.stats.snapshot(v.name, v.version));
  }

  /** The repository's models and versions, then every route (version "", READY when all its targets are). */
  index(readyOnly: boolean): IndexEntry[] {
    const out = this.repo.index(readyOnly);
    for (const view of this.router.list()) {
      const route = this.facts(view.name);
      const ready = route.unready.length === 0 && route.ready.length > 0;
      if (readyOnly && !ready) continue;
      const reason = ready ? `route (${route.policy}) to ${route.targets.join(', ')}` : `route (${route.policy}): ${route.unready.join('; ')}`;
      out.push({ name: view.name, version: '', state: ready ? 'READY' : 'UNAVAILABLE', reason });
    }
    return out;
  }

  /** The signature requests to `name` are decoded against (v1 `:predict` needs it before the pipeline). */
  signature(name: string): ModelSignature {
    const route = this.route(name, null);
    return route === null ? this.repo.resolve(name, null).signature : this.routeSignature(route).signature;
  }

  /** Refuses repository control of a route's name: routes change through the routes API. */
  checkNotRoute(name: string, what: string): void {
    if (this.router.has(name)) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `"${name}" is a route, not a model in the repository: it cannot be ${what}; change it with PUT/PATCH/DELETE /v2/routes/${name}`);
    }
  }

  private route(name: string, version: string | null): RouteFacts | null {
    if (!this.router.has(name)) return null;
    if (version !== null) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `"${name}" is a route: its policy picks the version; ask for /v2/models/${name} without a version, or for a target by its own name`);
    }
    return this.facts(name);
  }

  private facts(name: string): RouteFacts {
    const view = this.router.get(name);
    const ready: LoadedVersion[] = [];
    const unready: string[] = [];
    const targets: string[] = [];
    for (const t of view.targets) {
      const key = `${t.model}:${t.version}`;
      targets.push(key);
      try {
        ready.push(this.repo.resolve(t.model, t.version));
      } catch (e) {
        unready.push(`${key} ${(e as Error).message}`);
      }
    }
    return { name, policy: view.policy, targets, ready, unready };
  }

  private routeSignature(route: RouteFacts): { signature: ModelSignature; maxBatchSize: number } {
    if (route.ready.length === 0) {
      throw new GatewayError('SY_ERR_MODEL_UNAVAILABLE', `route "${route.name}" has no target ready: ${route.unready.join('; ')}`, { retryAfterS: 1 });
    }
    const sigs = route.ready.map((v) => v.signature);
    return {
      signature: { inputs: commonTensors(sigs.map((s) => s.inputs)), outputs: commonTensors(sigs.map((s) => s.outputs)) },
      maxBatchSize: Math.min(...route.ready.map((v) => v.maxBatchSize)),
    };
  }

  private statsOf(key: string): ModelStatisticsJson {
    const colon = key.lastIndexOf(':');
    return this.stats.snapshot(key.slice(0, colon), key.slice(colon + 1));
  }
}

/** KServe v2 model metadata of a served version, plus switchyard's serving facts under `parameters`. */
function modelMetadata(repo: ModelRepository, model: string, version: string | null): Record<string, unknown> {
  const v = repo.resolve(model, version);
  const versions = repo
    .index(true)
    .filter((e) => e.name === model)
    .map((e) => e.version);
  return {
    name: v.name,
    versions: version === null ? versions : [v.version],
    platform: 'onnxruntime_onnx',
    inputs: v.signature.inputs,
    outputs: v.signature.outputs,
    parameters: {
      version: v.version,
      max_batch_size: v.maxBatchSize,
      instance_count: v.config.instance_count,
      execution_provider: v.provider,
    },
  };
}

/**
 * The tensors every list has with the same name, datatype and rank (in the first list's
 * order); a dim the lists disagree on becomes -1.
 */
export function commonTensors(lists: readonly (readonly TensorSpec[])[]): TensorSpec[] {
  const out: TensorSpec[] = [];
  for (const t of lists[0] ?? []) {
    const shape = [...t.shape];
    let everywhere = true;
    for (let i = 1; i < lists.length && everywhere; i++) {
      const other = lists[i].find((o) => o.name === t.name);
      if (other === undefined || other.datatype !== t.datatype || other.shape.length !== shape.length) {
        everywhere = false;
        break;
      }
      for (let d = 0; d < shape.length; d++) if (shape[d] !== other.shape[d]) shape[d] = -1;
    }
    if (everywhere) out.push({ name: t.name, datatype: t.datatype, shape });
  }
  return out;
}

function addDuration(into: StatisticDuration, from: StatisticDuration): void {
  into.count += from.count;
  into.ns += from.ns;
}

/**
 * One statistics entry named `name` holding the sum of `parts`. Its version is "1": a route
 * has no versions of its own, but clients parse the field as a number (perf_analyzer aborts
 * on "").
 */
export function sumStatistics(name: string, parts: readonly ModelStatisticsJson[]): ModelStatisticsJson {
  const zero = (): StatisticDuration => ({ count: 0, ns: 0 });
  const sum: ModelStatisticsJson = {
    name,
    version: '1',
    last_inference: 0,
    inference_count: 0,
    execution_count: 0,
    inference_stats: { success: zero(), fail: zero(), queue: zero(), compute_input: zero(), compute_infer: zero(), compute_output: zero(), cache_hit: zero(), cache_miss: zero() },
    batch_stats: [],
  };
  const bySize = new Map<number, ModelStatisticsJson['batch_stats'][number]>();
  for (const p of parts) {
    sum.last_inference = Math.max(sum.last_inference, p.last_inference);
    sum.inference_count += p.inference_count;
    sum.execution_count += p.execution_count;
    for (const k of Object.keys(sum.inference_stats) as (keyof ModelStatisticsJson['inference_stats'])[]) addDuration(sum.inference_stats[k], p.inference_stats[k]);
    for (const b of p.batch_stats) {
      let into = bySize.get(b.batch_size);
      if (into === undefined) {
        into = { batch_size: b.batch_size, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
        bySize.set(b.batch_size, into);
      }
      addDuration(into.compute_input, b.compute_input);
      addDuration(into.compute_infer, b.compute_infer);
      addDuration(into.compute_output, b.compute_output);
    }
  }
  sum.batch_stats = [...bySize.values()].sort((a, b) => a.batch_size - b.batch_size);
  return sum;
}
