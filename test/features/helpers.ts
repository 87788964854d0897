import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { InferRequest, Tensor, type Datatype, type ModelSignature, type NumericArray } from '../../src/core/index.js';
import type { Logger } from '../../src/core/index.js';
import { FeatureMetrics } from '../../src/telemetry/feature-metrics.js';

/** A model signature with one numeric input of shape [-1, width] (like the example `tabular`). */
export function signature(input = 'x', datatype: Datatype = 'FP32', width = -1, extra: { name: string; datatype: Datatype; shape: number[] }[] = []): ModelSignature {
  return { inputs: [{ name: input, datatype, shape: [-1, width] }, ...extra], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] };
}

const enc = new TextEncoder();

/** A BYTES tensor of ids, shape [n] (or [n,1]). */
export function ids(name: string, values: readonly string[], column = false): Tensor {
  return new Tensor(name, 'BYTES', column ? [values.length, 1] : [values.length], values.map((v) => enc.encode(v)));
}

export function request(model: string, inputs: Tensor[]): InferRequest {
  return new InferRequest(model, null, inputs, 'rest', performance.now());
}

/** The input named `name` of a request (throws when absent). */
export function input(req: InferRequest, name: string): Tensor {
  const t = req.inputs.find((i) => i.name === name);
  if (t === undefined) throw new Error(`request has no input ${name}; it has ${req.inputs.map((i) => i.name).join(', ')}`);
  return t;
}

/** The rows of a [n, w] numeric tensor as arrays of numbers. */
export function rowsOf(t: Tensor): number[][] {
  const [n, w] = t.shape;
  const data = t.data as NumericArray;
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from(data.subarray(i * w, (i + 1) * w) as ArrayLike<number | bigint>, (v) => Number(v)));
  return out;
}

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const add = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error'), isLevelEnabled: () => true };
}

/** Feature metrics in their own registry, with readers for the tests. */
export class MetricsProbe {
  readonly registry = new Registry();
  readonly metrics = new FeatureMetrics(this.registry);

  async value(name: string, labels: Record<string, string>): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (metric === undefined) throw new Error(`no metric ${name}`);
    const { values } = await metric.get();
    let sum = 0;
    for (const v of values) {
      if (Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)) sum += v.value;
    }
    return sum;
  }

  /** defaults counted for a view, by reason (reasons with 0 left out) */
  async defaults(view: string): Promise<Record<string, number>> {
    const metric = this.registry.getSingleMetric('switchyard_feature_defaults_total')!;
    const out: Record<string, number> = {};
    for (const v of (await metric.get()).values) {
      const labels = v.labels as Record<string, string>;
      if (labels.view === view && v.value > 0) out[labels.reason] = v.value;
    }
    return out;
  }

  /** lookups observed by the latency histogram for a view */
  async lookups(view: string): Promise<number> {
    const metric = this.registry.getSingleMetric('switchyard_feature_lookup_duration_seconds')!;
    const { values } = await metric.get();
    const count = values.find(
      (v) => (v as { metricName?: string }).metricName === 'switchyard_feature_lookup_duration_seconds_count' && (v.labels as Record<string, string>).view === view,
    );
    return count?.value ?? 0;
  }

  close(): void {
    this.metrics.close();
  }
}

/** A temp folder with files; remove() deletes it. */
export function tempFiles(files: Record<string, string>): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-features-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fake millisecond clock for the local caches. */
export class FakeClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
