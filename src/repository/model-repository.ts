import { channel } from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseModelConfig, resolveModelConfig, type ModelConfig, type PartialModelConfig, type VersionPolicy } from '../config/index.js';
import { GatewayError, modelNotFound, modelNotServed } from '../core/errors.js';
import type { Logger } from '../core/index.js';
import { readLabels } from './labels.js';
import { LoadedVersion } from './loaded-version.js';
import { checkModelName, confined, isDirectory, isFile, isValidModelName, isValidVersion } from './paths.js';
import { MODEL_LOAD_CHANNEL, type ModelLoadEvent } from './diagnostics.js';

export type VersionState = 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface IndexEntry {
  name: string;
  version: string;
  state: VersionState;
  reason: string;
}

const loadChannel = channel(MODEL_LOAD_CHANNEL);

class VersionEntry {
  readonly version: string;
  state: VersionState;
  reason: string;
  served: LoadedVersion | null;
  constructor(version: string) {
    this.version = version;
    this.state = 'LOADING';
    this.reason = '';
    this.served = null;
  }
}

class ModelEntry {
  readonly name: string;
  readonly versions = new Map<string, VersionEntry>();
  /** newest READY version, or null */
  latest: LoadedVersion | null = null;
  /** reason the model as a whole is unavailable (bad config, no versions), or '' */
  reason = '';
  /** serialises load/unload of this model */
  pending: Promise<void> = Promise.resolve();
  constructor(name: string) {
    this.name = name;
  }

  refreshLatest(): void {
    let best: LoadedVersion | null = null;
    for (const v of this.versions.values()) {
      if (v.state === 'READY' && v.served !== null && (best === null || Number(v.version) > Number(best.version))) best = v.served;
    }
    this.latest = best;
  }
}

export interface RepositoryOptions {
  root: string;
  /** server-wide model_defaults, applied under each model's config.yaml */
  modelDefaults: PartialModelConfig | null;
  cores: number;
  drainTimeoutMs: number;
  log: Logger;
  /** the models loadAll() loads: every one in the root ('*'), or these (model_control_mode explicit) */
  startupModels: '*' | readonly string[];
  /**
   * null: the root holds one folder per model. A name: the root is that one model's folder
   * (config `model_name`; KServe's storage initializer puts one model in /mnt/models): its
   * `<version>/model.onnx` folders, or, when it has none, a `model.onnx` directly in the root,
   * served as version 1.
   */
  singleModel?: string | null;
}

/** The version a single-model root's own model.onnx is served as. */
const FLAT_VERSION = '1';

/**
 * The model repository: `<root>/<model>/<version>/model.onnx` with an optional
 * `<root>/<model>/config.yaml` (or, with `singleModel`, the root is the one model's folder). Owns every LoadedVersion; resolve() hands one out for a
 * single request, and a version swapped out by a reload keeps serving what was routed to it
 * until it has drained.
 */
export class ModelRepository {
  private readonly opts: RepositoryOptions;
  private readonly models = new Map<string, ModelEntry>();

  constructor(opts: RepositoryOptions) {
    this.opts = opts;
  }

  get root(): string {
    return this.opts.root;
  }

  /**
   * Loads the startup models: every model found in the root, or the listed ones (explicit
   * model control; the rest stay in the index, unloaded). Failures leave that model
   * UNAVAILABLE; a listed name with no folder in the root stops the startup.
   */
  async loadAll(): Promise<void> {
    if (!isDirectory(this.opts.root)) throw new Error(`model repository ${this.opts.root} is not a directory`);
    const found = this.modelNames();
    const wanted = this.opts.startupModels;
    if (wanted !== '*') {
      const missing = wanted.filter((n) => !found.includes(n));
      if (missing.length > 0) {
        throw new Error(`startup_models ${missing.map((n) => JSON.stringify(n)).join(', ')} ${missing.length === 1 ? 'is not a model' : 'are not models'} in ${this.opts.root} (it has ${found.join(', ') || 'none'})`);
      }
    }
    const names = wanted === '*' ? found : found.filter((n) => wanted.includes(n));
    await Promise.all(names.map((n) => this.load(n).catch(() => undefined)));
  }

  /**
   * (Re)loads a model: reads its config (or takes `override`, a config object standing in for
   * its config.yaml for this load), loads the versions its policy selects in fresh workers,
   * swaps them in, and retires versions no longer selected. Resolves when done; rejects with
   * SY_ERR_LOAD_FAILED (the model stays as it was where a version failed). A name that was
   * never served and fails to load leaves nothing behind: it stays unknown (404), not a
   * permanently unavailable model clients would retry.
   */
  load(name: string, override: Record<string, unknown> | null = null): Promise<void> {
    checkModelName(name);
    if (override !== null) {
      // a bad override is the caller's mistake: refused before the model is touched
      try {
        resolveModelConfig(override, this.opts.modelDefaults, 'the config override');
      } catch (e) {
        return Promise.reject(new GatewayError('SY_ERR_BAD_REQUEST', `failed to load "${name}": ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    const entry = this.entry(name);
    const run = entry.pending.then(() => this.doLoad(entry, override)).catch((e: unknown) => {
      if (entry.versions.size === 0 && this.models.get(name) === entry && !this.inRoot(name)) this.models.delete(name);
      throw e;
    });
    entry.pending = run.catch(() => undefined);
    return run;
  }

  /** Drains and stops every version of a model; it stays in the index (as unloaded) while its folder is there. */
  unload(name: string): Promise<void> {
    checkModelName(name);
    const entry = this.models.get(name);
    if (entry === undefined) return Promise.reject(modelNotFound(name));
    const run = entry.pending.then(async () => {
      await this.doUnload(entry, 'unloaded');
      entry.versions.clear();
      if (!this.inRoot(name) && this.models.get(name) === entry) this.models.delete(name);
    });
    entry.pending = run.catch(() => undefined);
    return run;
  }

  /**
   * The version to serve a request: the named one, or the newest READY one. A model (version)
   * that is loading or unloading is 503 (retry soon); one that is not served at all (never
   * loaded, failed, unloaded) is 404 with the reason.
   */
  resolve(name: string, version: string | null): LoadedVersion {
    const entry = this.models.get(name);
    if (entry === undefined) {
      // in the repository but never loaded (explicit model control): say how to load it
      if (isValidModelName(name) && this.inRoot(name)) throw modelNotServed(name, version, 'not loaded');
      throw modelNotFound(name);
    }
    if (version === null) {
      if (entry.latest !== null) return entry.latest;
      const busy = [...entry.versions.values()].find((v) => v.state === 'LOADING' || v.state === 'UNLOADING');
      if (busy !== undefined) throw new GatewayError('SY_ERR_MODEL_UNAVAILABLE', `model "${name}" has no version ready yet: version ${busy.version} is ${busy.state}; retry shortly`, { retryAfterS: 1 });
      const why = entry.reason || [...entry.versions.values()].map((v) => `version ${v.version}: ${v.reason || v.state}`).join('; ') || 'not loaded';
      throw modelNotServed(name, null, why);
    }
    const v = entry.versions.get(version);
    if (v === undefined) throw modelNotFound(name, version);
    if (v.served === null || v.state !== 'READY') {
      if (v.state === 'LOADING' || v.state === 'UNLOADING') {
        throw new GatewayError('SY_ERR_MODEL_UNAVAILABLE', `model "${name}" version "${version}" is ${v.state}; retry shortly`, { retryAfterS: 1 });
      }
      throw modelNotServed(name, version, v.reason || v.state);
    }
    return v.served;
  }

  /** Whether the model (version) exists in the repository index at all. */
  has(name: string, version: string | null): boolean {
    const entry = this.models.get(name);
    if (entry === undefined) return false;
    return version === null || entry.versions.has(version);
  }

  isReady(name: string, version: string | null): boolean {
    try {
      this.resolve(name, version);
      return true;
    } catch {
      return false;
    }
  }

  /** Every model in the root (loaded or not) and every known version with its state. */
  index(readyOnly = false): IndexEntry[] {
    const out: IndexEntry[] = [];
    const names = new Set(this.models.keys());
    for (const name of this.modelNames()) names.add(name);
    for (const name of [...names].sort()) {
      const entry = this.models.get(name);
      if (entry === undefined || entry.versions.size === 0) {
        if (!readyOnly) out.push({ name, version: '', state: 'UNAVAILABLE', reason: entry?.reason || 'not loaded' });
        continue;
      }
      const versions = [...entry.versions.values()].sort((a, b) => Number(a.version) - Number(b.version));
      for (const v of versions) {
        if (readyOnly && v.state !== 'READY') continue;
        out.push({ name, version: v.version, state: v.state, reason: v.reason });
      }
    }
    return out;
  }

  /** Every served version, for metrics and statistics. */
  served(): LoadedVersion[] {
    const out: LoadedVersion[] = [];
    for (const e of this.models.values()) for (const v of e.versions.values()) if (v.served !== null) out.push(v.served);
    return out;
  }

  /** Drains and stops every version (graceful shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((e) => e.pending.then(() => this.doUnload(e, 'server stopping'))));
  }

  /** The models the root holds, sorted. */
  private modelNames(): string[] {
    if (!isDirectory(this.opts.root)) return [];
    const single = this.opts.singleModel ?? null;
    if (single !== null) return [single];
    return readdirSync(this.opts.root, { withFileTypes: true })
      .filter((d) => isValidModelName(d.name) && isDirectory(join(this.opts.root, d.name)))
      .map((d) => d.name)
      .sort();
  }

  /** A model's folder (symlinks resolved, inside the root), or null when the root has no such model. */
  private modelDir(name: string): string | null {
    const single = this.opts.singleModel ?? null;
    if (single !== null) return name === single && isDirectory(this.opts.root) ? confined(this.opts.root) : null;
    const dir = confined(this.opts.root, name);
    return dir !== null && isDirectory(dir) ? dir : null;
  }

  private inRoot(name: string): boolean {
    return this.modelDir(name) !== null;
  }

  /**
   * version → model file of a model folder: its `<version>/model.onnx` folders; a single-model
   * root without any serves its own model.onnx as version 1.
   */
  private versionFiles(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    const versions = readdirSync(dir, { withFileTypes: true })
      .map((d) => d.name)
      .filter((v) => isValidVersion(v))
      .sort((a, b) => Number(a) - Number(b));
    for (const v of versions) {
      const file = confined(dir, v, 'model.onnx');
      if (file !== null && isFile(file)) out.set(v, file);
    }
    if (out.size === 0 && (this.opts.singleModel ?? null) !== null) {
      const flat = confined(dir, 'model.onnx');
      if (flat !== null && isFile(flat)) out.set(FLAT_VERSION, flat);
    }
    return out;
  }

  private entry(name: string): ModelEntry {
    let e = this.models.get(name);
    if (e === undefined) {
      e = new ModelEntry(name);
      this.models.set(name, e);
    }
    return e;
  }

  private readConfig(name: string, override: Record<string, unknown> | null): ModelConfig {
    if (override !== null) return resolveModelConfig(override, this.opts.modelDefaults, `the config override of ${name}`);
    const dir = this.modelDir(name);
    const file = dir === null ? null : confined(dir, 'config.yaml');
    const display = `${name}/config.yaml`;
    const partial = file !== null && isFile(file) ? parseModelConfig(readFileSync(file, 'utf8'), display) : null;
    return resolveModelConfig(partial, this.opts.modelDefaults, display);
  }

  private async doLoad(entry: ModelEntry, override: Record<string, unknown> | null): Promise<void> {
    const { name } = entry;
    const dir = this.modelDir(name);
    if (dir === null) {
      this.fail(entry, `no directory "${name}" in the model repository`);
      throw new GatewayError('SY_ERR_LOAD_FAILED', `failed to load "${name}": no such model directory in the repository`);
    }
    let config: ModelConfig;
    let labels: ReadonlyMap<string, readonly string[]>;
    try {
      config = this.readConfig(name, override);
      labels = readLabels(dir, name, config);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.fail(entry, reason);
      throw new GatewayError('SY_ERR_LOAD_FAILED', `failed to load "${name}": ${reason}`);
    }
    const files = this.versionFiles(dir);
    const available = [...files.keys()];
    const wanted = selectVersions(available, config.version_policy);
    if (wanted.length === 0) {
      const reason = available.length === 0 ? 'no version directory with a model.onnx' : 'version_policy selects none of the versions present';
      this.fail(entry, reason);
      throw new GatewayError('SY_ERR_LOAD_FAILED', `failed to load "${name}": ${reason}`);
    }
    entry.reason = '';
    const failures: string[] = [];
    await Promise.all(
      wanted.map(async (version) => {
        let v = entry.versions.get(version);
        if (v === undefined) {
          v = new VersionEntry(version);
          entry.versions.set(version, v);
        }
        if (v.served === null) this.setState(entry, v, 'LOADING', '', null, 0);
        const started = performance.now();
        const modelPath = files.get(version) ?? null;
        try {
          if (modelPath === null) throw new Error('model.onnx resolves outside the repository');
          const loaded = await LoadedVersion.load({ name, version, modelPath, config, labels, cores: this.opts.cores });
          const old = v.served;
          v.served = loaded;
          this.setState(entry, v, 'READY', '', loaded.provider, performance.now() - started);
          if (loaded.pool.description.fallbacks.length > 0) {
            this.opts.log.warn('execution provider fallback', { model: name, version, provider: loaded.provider, tried: loaded.pool.description.fallbacks });
          }
          if (old !== null) await old.retire(this.opts.drainTimeoutMs);
        } catch (e) {
          const reason = e instanceof Error ? e.message : String(e);
          failures.push(`version ${version}: ${reason}`);
          if (v.served === null) this.setState(entry, v, 'UNAVAILABLE', reason, null, performance.now() - started);
          else this.opts.log.error('reload failed; the previous instance keeps serving', { model: name, version, reason });
        }
      }),
    );
    for (const v of [...entry.versions.values()]) {
      if (!wanted.includes(v.version)) await this.retireVersion(entry, v, 'not selected by version_policy');
    }
    if (failures.length > 0) throw new GatewayError('SY_ERR_LOAD_FAILED', `failed to load "${name}": ${failures.join('; ')}`);
  }

  private async doUnload(entry: ModelEntry, reason: string): Promise<void> {
    await Promise.all([...entry.versions.values()].map((v) => this.retireVersion(entry, v, reason)));
    entry.reason = reason;
  }

  private async retireVersion(entry: ModelEntry, v: VersionEntry, reason: string): Promise<void> {
    const served = v.served;
    if (served === null) {
      if (v.state !== 'UNAVAILABLE' || v.reason === '') this.setState(entry, v, 'UNAVAILABLE', reason, null, 0);
      return;
    }
    v.served = null;
    this.setState(entry, v, 'UNLOADING', reason, null, 0);
    try {
      await served.retire(this.opts.drainTimeoutMs);
    } finally {
      this.setState(entry, v, 'UNAVAILABLE', reason, null, 0);
    }
  }

  private fail(entry: ModelEntry, reason: string): void {
    entry.reason = reason;
    this.opts.log.error('model failed to load', { model: entry.name, reason });
  }

  private setState(entry: ModelEntry, v: VersionEntry, state: VersionState, reason: string, provider: string | null, durationMs: number): void {
    v.state = state;
    v.reason = reason;
    entry.refreshLatest();
    if (state === 'READY') this.opts.log.info('model version ready', { model: entry.name, version: v.version, provider, loadMs: Math.round(durationMs) });
    else if (state === 'UNAVAILABLE' && reason) {
      const deliberate = v.served === null && (reason === 'unloaded' || reason === 'server stopping' || reason === 'not selected by version_policy');
      (deliberate ? this.opts.log.info : this.opts.log.warn)('model version unavailable', { model: entry.name, version: v.version, reason });
    }
    if (loadChannel.hasSubscribers) {
      const event: ModelLoadEvent = { model: entry.name, version: v.version, state, reason, provider, durationMs };
      loadChannel.publish(event);
    }
  }
}

/** The versions (ascending) a policy selects from those present. */
export function selectVersions(available: readonly string[], policy: VersionPolicy): string[] {
  if (policy === 'all') return [...available];
  if ('latest' in policy) return available.slice(Math.max(0, available.length - policy.latest));
  const wanted = new Set(policy.specific.map(String));
  return available.filter((v) => wanted.has(v));
}
