/**
 * Drift state of one model version: a window per watched column, each column's reference
 * (from reference.json, else collected from the first requests served) and whether it is
 * drifting. observe() is on the request path (O(1) per value); compute() on the monitor's
 * timer.
 */
import type { ModelSignature, Tensor } from '../../core/index.js';
import { numberAt } from '../request-log/index.js';
import { columnLayout, type ColumnLayout, type WatchedTensor } from './columns.js';
import type { DriftMetrics } from './metrics.js';
import { ColumnReference, type ReferenceFile } from './reference.js';
import { ColumnWindow } from './window.js';

/** Values kept per column while a reference is collected from traffic (bounds memory). */
export const MAX_REFERENCE_VALUES = 100_000;

export interface DriftSettings {
  readonly window: number;
  readonly referenceRequests: number;
  readonly maxColumns: number;
  readonly psiThreshold: number;
  readonly ksThreshold: number;
}

/** One column's statistics from the last compute(), or null before the first. */
export interface ColumnDrift {
  readonly column: string;
  readonly psi: number;
  readonly ks: number;
  readonly drifting: boolean;
}

export class ModelDrift {
  readonly model: string;
  readonly version: string;
  readonly layout: ColumnLayout;
  private readonly settings: DriftSettings;
  private readonly windows: ColumnWindow[];
  private readonly references: (ColumnReference | null)[];
  /** per column: values collected for a traffic reference, or null (not collecting it) */
  private readonly collected: (number[] | null)[];
  private collectedRequests = 0;
  private stillCollecting = true;
  /** the reference.json load has finished (found, missing or invalid) */
  private fileSettled = false;
  private readonly drifting: boolean[];
  private last: ColumnDrift[] = [];

  constructor(model: string, version: string, signature: ModelSignature, settings: DriftSettings) {
    this.model = model;
    this.version = version;
    this.settings = settings;
    this.layout = columnLayout(signature, settings.maxColumns);
    const n = this.layout.names.length;
    this.windows = Array.from({ length: n }, () => new ColumnWindow(settings.window));
    this.references = new Array<ColumnReference | null>(n).fill(null);
    this.collected = Array.from({ length: n }, () => [] as number[]);
    this.drifting = new Array<boolean>(n).fill(false);
  }

  get columns(): number {
    return this.layout.names.length;
  }

  /** Adds a request's values to the windows (and to the reference being collected). */
  observe(inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    const tensors = this.layout.tensors;
    for (let k = 0; k < tensors.length; k++) {
      const w = tensors[k];
      const t = findTensor(w.side === 'input' ? inputs : outputs, w.name);
      if (t !== null) this.observeTensor(w, t);
    }
    if (this.collecting()) {
      this.collectedRequests++;
      if (this.fileSettled && this.collectedRequests >= this.settings.referenceRequests) this.finishCollection();
    }
  }

  private observeTensor(w: WatchedTensor, t: Tensor): void {
    if (t.datatype === 'BYTES') return;
    const shape = t.shape;
    if (w.rank1 ? shape.length !== 1 : shape.length !== 2 || shape[1] !== w.width) return;
    const rows = shape[0];
    if (t.data.length < rows * w.width) return;
    const direct = t.datatype !== 'FP16' && t.datatype !== 'INT64' && t.datatype !== 'UINT64';
    const data = t.data as ArrayLike<number>;
    for (let c = 0; c < w.columns; c++) {
      const col = w.firstColumn + c;
      const window = this.windows[col];
      const sink = this.collected[col];
      for (let r = 0; r < rows; r++) {
        const i = r * w.width + c;
        const v = direct ? data[i] : numberAt(t, i);
        window.push(v);
        if (sink !== null && sink.length < MAX_REFERENCE_VALUES && Number.isFinite(v)) sink.push(v);
      }
    }
  }

  /** Some column still collects its reference from traffic (cached: observe() asks per request). */
  private collecting(): boolean {
    if (!this.stillCollecting) return false;
    for (const c of this.collected) if (c !== null) return true;
    this.stillCollecting = false;
    return false;
  }

  /**
   * The reference.json load finished: `file` is its content, or null when there is none
   * (or it was invalid). Columns it covers stop collecting from traffic.
   */
  referenceLoaded(file: ReferenceFile | null): string[] {
    const unknown: string[] = [];
    if (file !== null) {
      const index = new Map(this.layout.names.map((name, i) => [name, i]));
      for (const [name, column] of Object.entries(file.columns)) {
        const i = index.get(name);
        if (i === undefined) {
          unknown.push(name);
          continue;
        }
        this.references[i] = ColumnReference.fromFileColumn(column);
        this.collected[i] = null;
      }
    }
    this.fileSettled = true;
    if (this.collecting() && this.collectedRequests >= this.settings.referenceRequests) this.finishCollection();
    return unknown;
  }

  private finishCollection(): void {
    for (let i = 0; i < this.collected.length; i++) {
      const values = this.collected[i];
      if (values === null) continue;
      this.references[i] = ColumnReference.fromSample(values, 'traffic');
      this.collected[i] = null;
    }
  }

  /** Column counts by reference source: file, traffic, pending. */
  referenceSources(): Record<'file' | 'traffic' | 'pending', number> {
    const out = { file: 0, traffic: 0, pending: 0 };
    for (const r of this.references) out[r === null ? 'pending' : r.source]++;
    return out;
  }

  /**
   * Computes PSI and KS of every column whose window is full and whose reference is known,
   * sets the gauges, and returns the columns that started or stopped drifting.
   */
  compute(metrics: DriftMetrics): { started: ColumnDrift[]; ended: ColumnDrift[] } {
    const started: ColumnDrift[] = [];
    const ended: ColumnDrift[] = [];
    const results: ColumnDrift[] = [];
    const names = this.layout.names;
    for (let i = 0; i < names.length; i++) {
      const ref = this.references[i];
      const window = this.windows[i];
      if (ref === null || !window.full) continue;
      const sorted = window.sorted();
      const p = ref.psi(sorted);
      const d = ref.ks(sorted);
      const drifting = p > this.settings.psiThreshold || d > this.settings.ksThreshold;
      const result: ColumnDrift = { column: names[i], psi: p, ks: d, drifting };
      results.push(result);
      if (drifting && !this.drifting[i]) started.push(result);
      if (!drifting && this.drifting[i]) ended.push(result);
      this.drifting[i] = drifting;
      const labels = { model: this.model, version: this.version, column: names[i] };
      metrics.psi.set(labels, p);
      metrics.ks.set(labels, d);
      metrics.detected.set(labels, drifting ? 1 : 0);
    }
    const sources = this.referenceSources();
    for (const source of ['file', 'traffic', 'pending'] as const) {
      metrics.references.set({ model: this.model, version: this.version, source }, sources[source]);
    }
    this.last = results;
    return { started, ended };
  }

  /** The statistics of the last compute(). */
  get lastResults(): readonly ColumnDrift[] {
    return this.last;
  }

  /** Removes this version's gauge series. */
  removeSeries(metrics: DriftMetrics): void {
    for (const column of this.layout.names) {
      const labels = { model: this.model, version: this.version, column };
      metrics.psi.remove(labels);
      metrics.ks.remove(labels);
      metrics.detected.remove(labels);
    }
    for (const source of ['file', 'traffic', 'pending']) metrics.references.remove({ model: this.model, version: this.version, source });
  }
}

function findTensor(tensors: readonly Tensor[], name: string): Tensor | null {
  for (let i = 0; i < tensors.length; i++) if (tensors[i].name === name) return tensors[i];
  return null;
}
