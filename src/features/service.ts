import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Redis } from 'ioredis';
import type { FeatureBindingConfig, FeatureViewConfig } from '../config/index.js';
import { GatewayError, Tensor, allocate, type InferRequest, type ModelSignature, type NumericArray, type Logger } from '../core/index.js';
import { MODEL_LOAD_CHANNEL, type ModelLoadEvent } from '../repository/diagnostics.js';
import { FeatureCache, type Clock } from './cache.js';
import { compileFeatures, type FeatureBinding } from './compile.js';
import { FeatureLookupEvent, lookupChannel } from './diagnostics.js';
import { findInput, readEntityIds } from './entity-ids.js';
import { writeRow } from './fill.js';
import type { FeatureRow } from './row.js';
import { MemoryFeatureStore } from './stores/memory-store.js';
import { createFeatureRedisClient } from './stores/redis-client.js';
import { RedisFeatureStore } from './stores/redis-store.js';
import type { FeatureStore } from './stores/store.js';
import type { FeatureView } from './view.js';

export const DEFAULT_LOOKUP_TIMEOUT_MS = 50;
const DEFAULT_CONNECT_WAIT_MS = 1000;

export interface FeatureServiceOptions {
  /** `features.views` of the server config */
  readonly views: Readonly<Record<string, FeatureViewConfig>>;
  /** model name → its `models.<name>.features` binding */
  readonly bindings: Readonly<Record<string, FeatureBindingConfig>>;
  /** Redis holding the features; null = the in-memory store loaded from the views' files */
  readonly redisUrl: string | null;
  readonly log: Logger;
  /** ms the store may take per request before its defaults are used (default 50) */
  readonly lookupTimeoutMs?: number;
  /** folder a relative view `file` is read from (default: the cwd; a normalised config has absolute paths) */
  readonly baseDir?: string;
  /** ms to wait at startup for Redis (default 1000); a Redis still down then is not an error */
  readonly connectWaitMs?: number;
  /** clock of the local caches (tests) */
  readonly clock?: Clock;
  /** makes the Redis client (tests wrap it); default createFeatureRedisClient */
  readonly createClient?: (url: string) => Redis;
}

const TIMED_OUT = Symbol('timed out');

/**
 * The lookups of one view for one request: cache hits in place, misses read from the store.
 * Rows arrive by fill(); until then (timeout) the view's timeout row stands in.
 */
class ViewLookup {
  readonly view: FeatureView;
  readonly cache: FeatureCache | null;
  readonly rows: FeatureRow[];
  /** positions in `rows` of the ids read from the store */
  readonly missAt: number[];
  readonly missIds: string[];
  hits: number;
  settled: boolean;
  failed: unknown;

  constructor(view: FeatureView, cache: FeatureCache | null, rows: number) {
    this.view = view;
    this.cache = cache;
    this.rows = new Array<FeatureRow>(rows);
    this.missAt = [];
    this.missIds = [];
    this.hits = 0;
    this.settled = false;
    this.failed = null;
  }

  fill(got: FeatureRow[]): void {
    // a late answer (after the timeout) still warms the cache
    for (let j = 0; j < got.length; j++) {
      if (!this.settled) this.rows[this.missAt[j]] = got[j];
      this.cache?.set(this.missIds[j], got[j]);
    }
    this.settled = true;
  }

  fail(e: unknown): void {
    if (this.settled) return;
    this.failed = e ?? new Error('store read failed');
    this.fillWith(this.view.errorRow);
  }

  /** Rows not there yet at the timeout: the view's timeout row. */
  timeOut(): void {
    if (this.settled) return;
    this.fillWith(this.view.timeoutRow);
  }

  private fillWith(row: FeatureRow): void {
    for (let j = 0; j < this.missAt.length; j++) this.rows[this.missAt[j]] = row;
    this.settled = true;
  }
}

/**
 * Online features: fills a model input from feature views when a request carries entity ids
 * instead (step 2 of Gateway.infer(), before validation). Lookups go cache → store with a
 * timeout; whatever is missing, unparsable, stale, failed or late gets the view's defaults,
 * counted, and the request goes on: a request never fails because of the store.
 */
export class FeatureService {
  readonly store: FeatureStore;
  private readonly bindings: ReadonlyMap<string, FeatureBinding>;
  private readonly caches: ReadonlyMap<FeatureView, FeatureCache>;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private storeFailing = false;
  private onModelState: ((msg: unknown) => void) | null = null;

  private constructor(store: FeatureStore, bindings: ReadonlyMap<string, FeatureBinding>, caches: ReadonlyMap<FeatureView, FeatureCache>, timeoutMs: number, log: Logger) {
    this.store = store;
    this.bindings = bindings;
    this.caches = caches;
    this.timeoutMs = timeoutMs;
    this.log = log;
  }

  /**
   * Compiles the views and bindings (a ConfigError lists every problem), then opens the
   * store: Redis when `redisUrl` is set and views exist (waiting up to connectWaitMs for it;
   * a Redis that is down is logged, not fatal), else the in-memory store loaded from the
   * views' files. With no views it opens nothing.
   */
  static async create(opts: FeatureServiceOptions): Promise<FeatureService> {
    const { views, bindings } = compileFeatures(opts.views, opts.bindings, opts.baseDir ?? process.cwd());
    const log = opts.log;
    let store: FeatureStore;
    const caches = new Map<FeatureView, FeatureCache>();
    if (opts.redisUrl !== null && views.size > 0) {
      const redis = new RedisFeatureStore((opts.createClient ?? createFeatureRedisClient)(opts.redisUrl), log);
      store = redis;
      for (const view of views.values()) {
        if (view.file !== null) log.info('feature view reads Redis; its file is not loaded (switchyard features load writes it to Redis)', { view: view.name });
        if (view.ttlMs > 0) caches.set(view, new FeatureCache(view.ttlMs, view.cacheMaxEntries, opts.clock ?? null));
      }
      if (!(await redis.waitReady(opts.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS))) {
        log.warn('feature store: Redis not ready yet; lookups use defaults until it is', {});
      }
    } else {
      store = await MemoryFeatureStore.load(views.values(), log);
    }
    return new FeatureService(store, bindings, caches, opts.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS, log);
  }

  /**
   * Warns, each time a version of a bound model becomes ready, about what keeps its signature
   * from taking the binding's tensor (checkSignature): its requests would fail validation.
   * `signatureOf` gives the ready version's signature (null when it is gone again).
   */
  watchModels(signatureOf: (model: string, version: string) => ModelSignature | null): void {
    this.unwatchModels();
    this.onModelState = (msg: unknown): void => {
      const m = msg as ModelLoadEvent;
      if (m.state !== 'READY' || this.binding(m.model) === null) return;
      const signature = signatureOf(m.model, m.version);
      if (signature === null) return;
      for (const problem of this.checkSignature(m.model, signature)) {
        this.log.warn('feature binding does not fit the model; its requests will fail validation', { model: m.model, version: m.version, problem });
      }
    };
    subscribe(MODEL_LOAD_CHANNEL, this.onModelState);
  }

  private unwatchModels(): void {
    if (this.onModelState !== null) unsubscribe(MODEL_LOAD_CHANNEL, this.onModelState);
    this.onModelState = null;
  }

  /** The binding of a model, or null when no input of it is filled from features. */
  binding(model: string): FeatureBinding | null {
    return this.bindings.get(model) ?? null;
  }

  /**
   * What keeps a model's signature from taking its binding's tensor (empty = fine): the
   * input must exist, be numeric and have rank 2 with `width` columns (or a dynamic last
   * dim). Call at model load; assemble() converts the views' datatype to the input's.
   */
  checkSignature(model: string, signature: ModelSignature): string[] {
    const binding = this.binding(model);
    if (binding === null) return [];
    const spec = signature.inputs.find((s) => s.name === binding.input);
    const views = binding.views.map((v) => `"${v.name}"`).join(', ');
    if (spec === undefined) {
      return [`model "${model}" has no input "${binding.input}" to fill from feature views ${views} (its inputs: ${signature.inputs.map((s) => s.name).join(', ')})`];
    }
    const problems: string[] = [];
    if (spec.datatype === 'BYTES') problems.push(`model "${model}": input "${binding.input}" is BYTES; feature views fill numeric inputs only`);
    if (spec.shape.length !== 2) {
      problems.push(`model "${model}": input "${binding.input}" has shape [${spec.shape.join(',')}]; feature views fill [rows, columns] inputs`);
    } else if (spec.shape[1] !== -1 && spec.shape[1] !== binding.width) {
      problems.push(`model "${model}": input "${binding.input}" has ${spec.shape[1]} columns but feature views ${views} give ${binding.width}`);
    }
    return problems;
  }

  /**
   * Fills `binding.input` of `req` from the views when the request does not carry it: reads
   * the entity ids, fetches rows (cache → store, one timeout for all), builds the tensor
   * ([rows, width], the model input's datatype) and replaces the entity inputs the model
   * does not declare with it. Returns how many values were defaulted. Rejects only with a
   * 400 GatewayError for the client's mistakes, never because of the store.
   */
  async assemble(req: InferRequest, binding: FeatureBinding, signature: ModelSignature, maxBatchSize = 0): Promise<number> {
    if (findInput(req.inputs, binding.input) !== null) {
      req.inputs = this.replaceEntityInputs(req.inputs, binding, signature, null);
      return 0;
    }
    const { rows, ids } = readEntityIds(req.inputs, binding);
    const spec = signature.inputs.find((s) => s.name === binding.input);
    // counted before any store read: 200,000 ids must not become 200,000 reads of a request
    // the batch limit refuses anyway
    const fixedRows = spec !== undefined && spec.shape[0] > 0 ? spec.shape[0] : null;
    if (maxBatchSize > 0 && rows > maxBatchSize) {
      throw new GatewayError('SY_ERR_BATCH_TOO_LARGE', `model "${binding.model}": ${rows} entity ids make a batch of ${rows}, larger than max_batch_size ${maxBatchSize}; split the request`);
    }
    if (maxBatchSize === 0 && fixedRows !== null && rows !== fixedRows) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `model "${binding.model}": input "${binding.input}" takes ${fixedRows} rows, got ${rows} entity ids`);
    }
    const dtype = spec?.datatype ?? binding.views[0].dtype;
    if (dtype === 'BYTES') {
      throw new GatewayError('SY_ERR_MODEL_UNAVAILABLE', `model "${binding.model}": input "${binding.input}" is BYTES and cannot be filled from feature views; the server config binds it wrongly`);
    }
    const started = performance.now();
    const lookups = this.startLookups(binding, rows, ids);
    await this.settle(lookups);
    const seconds = (performance.now() - started) / 1000;

    const width = binding.width;
    const out = allocate(dtype, rows * width) as NumericArray;
    const publish = lookupChannel.hasSubscribers;
    let defaulted = 0;
    for (let k = 0; k < lookups.length; k++) {
      const lookup = lookups[k];
      const offset = binding.offsets[k];
      const event = publish ? new FeatureLookupEvent(lookup.view.name, seconds, lookup.hits, this.caches.has(lookup.view) ? lookup.missIds.length : 0) : null;
      for (let i = 0; i < rows; i++) {
        const row = lookup.rows[i];
        writeRow(out, i * width + offset, row.values, dtype);
        if (row.defaulted === 0) continue;
        defaulted += row.defaulted;
        if (event !== null) {
          const reasons = row.reasons!;
          for (let j = 0; j < reasons.length; j++) if (reasons[j] !== 0) event.defaults[reasons[j] - 1]++;
        }
      }
      if (event !== null) lookupChannel.publish(event);
    }
    req.inputs = this.replaceEntityInputs(req.inputs, binding, signature, new Tensor(binding.input, dtype, [rows, width], out));
    return defaulted;
  }

  async close(): Promise<void> {
    this.unwatchModels();
    await this.store.close();
  }

  /** Cache hits in place; every store read issued in this tick (one pipelined round trip). */
  private startLookups(binding: FeatureBinding, rows: number, ids: readonly string[][]): ViewLookup[] {
    const lookups: ViewLookup[] = new Array<ViewLookup>(binding.views.length);
    for (let k = 0; k < binding.views.length; k++) {
      const view = binding.views[k];
      const cache = this.caches.get(view) ?? null;
      const lookup = new ViewLookup(view, cache, rows);
      const viewIds = ids[k];
      for (let i = 0; i < rows; i++) {
        const hit = cache === null ? undefined : cache.get(viewIds[i]);
        if (hit !== undefined) {
          lookup.rows[i] = hit;
          lookup.hits++;
        } else {
          lookup.missAt.push(i);
          lookup.missIds.push(viewIds[i]);
        }
      }
      lookups[k] = lookup;
    }
    return lookups;
  }

  /** Reads the misses of every lookup; waits for the remote ones at most the lookup timeout. */
  private async settle(lookups: ViewLookup[]): Promise<void> {
    let waits: Promise<void>[] | null = null;
    for (const lookup of lookups) {
      if (lookup.missIds.length === 0) {
        lookup.settled = true;
        continue;
      }
      let got: FeatureRow[] | Promise<FeatureRow[]>;
      try {
        got = this.store.read(lookup.view, lookup.missIds);
      } catch (e) {
        lookup.fail(e);
        this.noteFailure(e);
        continue;
      }
      if (Array.isArray(got)) lookup.fill(got);
      else {
        waits ??= [];
        waits.push(
          got.then(
            (rows) => lookup.fill(rows),
            (e: unknown) => {
              lookup.fail(e);
              this.noteFailure(e);
            },
          ),
        );
      }
    }
    if (waits === null) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs, TIMED_OUT);
    });
    const result = await Promise.race([Promise.all(waits), timeout]);
    clearTimeout(timer);
    if (result === TIMED_OUT) {
      for (const lookup of lookups) lookup.timeOut();
      this.noteFailure(null);
    } else if (this.storeFailing && lookups.every((l) => l.failed === null)) {
      this.storeFailing = false;
      this.log.info('feature lookups succeed again');
    }
  }

  /** Logs the first failed or timed-out read of an outage (not every one). */
  private noteFailure(e: unknown): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    this.log.warn(e === null ? `feature lookups time out (over ${this.timeoutMs} ms); defaults are used` : 'feature lookups fail; defaults are used', {
      error: e instanceof Error ? e.message : e === null ? null : String(e),
    });
  }

  /**
   * The request's inputs without the entity inputs the model does not declare, plus
   * `filled` (when given). A new array: the transport's array is not changed.
   */
  private replaceEntityInputs(inputs: readonly Tensor[], binding: FeatureBinding, signature: ModelSignature, filled: Tensor | null): Tensor[] {
    const out: Tensor[] = [];
    for (const t of inputs) {
      if (binding.entityInputs.includes(t.name) && !signature.inputs.some((s) => s.name === t.name)) continue;
      out.push(t);
    }
    if (filled !== null) out.push(filled);
    return out;
  }
}
