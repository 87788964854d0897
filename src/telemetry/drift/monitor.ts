/**
 * The drift monitor: one ModelDrift per served model version, created on its first
 * request. observe() is the request-path call; compute() runs every drift.interval_s on a
 * timer and sets the gauges; a column crossing a threshold logs one warning per episode
 * (and one info line when it returns below), and publishes both on the drift episode channel.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { DriftConfig } from '../../config/index.js';
import type { ModelSignature, Tensor, Logger } from '../../core/index.js';
import { driftEpisodeChannel, type DriftEpisodeEvent } from './diagnostics.js';
import { DriftMetrics } from './metrics.js';
import { ModelDrift, type ColumnDrift, type DriftSettings } from './model-drift.js';
import { parseReferenceFile, type ReferenceFile } from './reference.js';

export const REFERENCE_FILE = 'reference.json';

/** What the monitor needs of a served model version (a repository LoadedVersion fits). */
export interface ObservedModel {
  readonly name: string;
  readonly version: string;
  readonly signature: ModelSignature;
}

export interface DriftMonitorOptions {
  readonly config: DriftConfig;
  /** the model repository root: references are read from <root>/<model>/<version>/reference.json */
  readonly root: string;
  /** where a version's reference.json lies instead (a single-model repository: config model_name) */
  readonly versionFolder?: (model: string, version: string) => string;
  readonly log: Logger;
  /** where the drift gauges are registered; a private registry when left out */
  readonly registry?: Registry;
  /** false: no timer (tests call compute()) */
  readonly timer?: boolean;
}

export class DriftMonitor {
  readonly metrics: DriftMetrics;
  private readonly enabled: boolean;
  private readonly sampleRate: number;
  private readonly settings: DriftSettings;
  private readonly folder: (model: string, version: string) => string;
  private readonly log: Logger;
  private readonly models = new Map<string, Map<string, ModelDrift>>();
  private readonly loads = new Set<Promise<void>>();
  private readonly interval: NodeJS.Timeout | null;

  constructor(opts: DriftMonitorOptions) {
    const c = opts.config;
    this.enabled = c.enabled;
    this.sampleRate = c.sample_rate;
    this.settings = {
      window: c.window,
      referenceRequests: c.reference_requests,
      maxColumns: c.max_columns,
      psiThreshold: c.psi_threshold,
      ksThreshold: c.ks_threshold,
    };
    const root = opts.root;
    this.folder = opts.versionFolder ?? ((model, version) => path.join(root, model, version));
    this.log = opts.log;
    this.metrics = new DriftMetrics(opts.registry ?? new Registry());
    if (this.enabled && opts.timer !== false) {
      this.interval = setInterval(() => this.compute(), c.interval_s * 1000);
      this.interval.unref();
    } else {
      this.interval = null;
    }
  }

  /**
   * Adds the values of one served request to the windows of its model version: O(1) per
   * watched value, reads the tensors synchronously and keeps no reference to them.
   */
  observe(model: ObservedModel, inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    if (!this.enabled) return;
    if (this.sampleRate < 1 && Math.random() >= this.sampleRate) return;
    const drift = this.models.get(model.name)?.get(model.version) ?? this.track(model);
    if (drift.columns > 0) drift.observe(inputs, outputs);
  }

  /** The drift state of a version, or undefined when it has not served a request. */
  state(model: string, version: string): ModelDrift | undefined {
    return this.models.get(model)?.get(version);
  }

  private track(model: ObservedModel): ModelDrift {
    const drift = new ModelDrift(model.name, model.version, model.signature, this.settings);
    let versions = this.models.get(model.name);
    if (versions === undefined) {
      versions = new Map();
      this.models.set(model.name, versions);
    }
    versions.set(model.version, drift);
    if (drift.columns > 0) {
      const load = this.loadReference(drift).finally(() => this.loads.delete(load));
      this.loads.add(load);
    }
    return drift;
  }

  private async loadReference(drift: ModelDrift): Promise<void> {
    const file = path.join(this.folder(drift.model, drift.version), REFERENCE_FILE);
    let reference: ReferenceFile | null = null;
    try {
      reference = parseReferenceFile(await readFile(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn('drift reference.json is unusable; the reference is taken from traffic instead', {
          model: drift.model,
          version: drift.version,
          reason: (e as Error).message,
        });
      }
    }
    const unknown = drift.referenceLoaded(reference);
    if (unknown.length > 0) {
      this.log.warn('drift reference.json names columns the model does not have; they are ignored', {
        model: drift.model,
        version: drift.version,
        columns: unknown.slice(0, 10),
      });
    }
  }

  /** Resolves once every reference.json load started so far has finished (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.loads]);
  }

  /** Computes the statistics of every version and sets the gauges (the timer's work). */
  compute(): void {
    for (const versions of this.models.values()) {
      for (const drift of versions.values()) {
        if (drift.columns === 0) continue;
        const { started, ended } = drift.compute(this.metrics);
        for (const s of started) {
          this.log.warn('drift detected', {
            model: drift.model,
            version: drift.version,
            column: s.column,
            psi: round(s.psi),
            ks: round(s.ks),
            psi_threshold: this.settings.psiThreshold,
            ks_threshold: this.settings.ksThreshold,
          });
          this.publish(drift, s, 'started');
        }
        for (const e of ended) {
          this.log.info('drift ended', { model: drift.model, version: drift.version, column: e.column, psi: round(e.psi), ks: round(e.ks) });
          this.publish(drift, e, 'ended');
        }
      }
    }
  }

  private publish(drift: ModelDrift, c: ColumnDrift, state: DriftEpisodeEvent['state']): void {
    if (!driftEpisodeChannel.hasSubscribers) return;
    const message: DriftEpisodeEvent = {
      model: drift.model,
      version: drift.version,
      column: c.column,
      state,
      psi: round(c.psi),
      ks: round(c.ks),
      psiThreshold: this.settings.psiThreshold,
      ksThreshold: this.settings.ksThreshold,
      window: this.settings.window,
    };
    driftEpisodeChannel.publish(message);
  }

  /** Drops a version (unloaded): its windows, reference and gauge series. */
  forget(model: string, version: string): void {
    const versions = this.models.get(model);
    const drift = versions?.get(version);
    if (versions === undefined || drift === undefined) return;
    drift.removeSeries(this.metrics);
    versions.delete(version);
    if (versions.size === 0) this.models.delete(model);
  }

  close(): void {
    if (this.interval !== null) clearInterval(this.interval);
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
