import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Tensor, type ModelSignature } from '../../src/core/index.js';
import {
  ColumnReference,
  DriftMonitor,
  ReferenceFormatError,
  SampleFileError,
  binProportions,
  ksTwoSample,
  parseReferenceFile,
  psi,
  writeReferenceFile,
} from '../../src/telemetry/drift/index.js';
import { metricValue, recordingLogger } from './helpers.js';

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
};
const MODEL = { name: 'tabular', version: '1', signature: SIGNATURE };
const ROWS = 10;

/** Normal(mean, 1) values from a seeded generator. */
function gaussian(seed: number): (mean: number) => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return (mean) => mean + Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** One request of ROWS rows with x ~ N(shift, 1) and the outputs a toy model would give. */
function request(rand: (mean: number) => number, shift: number): { inputs: Tensor[]; outputs: Tensor[] } {
  const x = new Float32Array(ROWS * 4);
  const probs = new Float32Array(ROWS * 3);
  const label = new BigInt64Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < 4; c++) x[r * 4 + c] = rand(shift);
    const cls = (x[r * 4] > 0 ? 1 : 0) + (x[r * 4 + 1] > 0 ? 1 : 0);
    label[r] = BigInt(cls);
    for (let k = 0; k < 3; k++) probs[r * 3 + k] = k === cls ? 0.8 : 0.1;
  }
  return { inputs: [new Tensor('x', 'FP32', [ROWS, 4], x)], outputs: [new Tensor('probabilities', 'FP32', [ROWS, 3], probs), new Tensor('label', 'INT64', [ROWS], label)] };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'switchyard-drift-'));
  mkdirSync(path.join(root, 'tabular', '1'), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function monitor(config: Partial<ConstructorParameters<typeof DriftMonitor>[0]['config']> = {}) {
  const registry = new Registry();
  const log = recordingLogger();
  const drift = new DriftMonitor({
    config: { enabled: true, window: 500, reference_requests: 50, interval_s: 30, psi_threshold: 0.2, ks_threshold: 0.1, max_columns: 32, sample_rate: 1, ...config },
    root,
    log,
    registry,
    timer: false,
  });
  return { drift, registry, log };
}

async function serve(drift: DriftMonitor, rand: (mean: number) => number, requests: number, shift: number): Promise<void> {
  for (let i = 0; i < requests; i++) {
    const { inputs, outputs } = request(rand, shift);
    drift.observe(MODEL, inputs, outputs);
    if (i === 0) await drift.settled();
  }
}

const gauge = (registry: Registry, name: string, column: string) => metricValue(registry, name, { model: 'tabular', version: '1', column });
const COLUMNS = ['x[0]', 'x[1]', 'x[2]', 'x[3]', 'probabilities[0]', 'probabilities[1]', 'probabilities[2]', 'label'];

describe('drift statistics', () => {
  it('PSI and KS have their textbook values', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 10);
    expect(ksTwoSample([1, 2, 3, 4], [1, 2, 3, 4])).toBe(0);
    expect(ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6])).toBe(0.5);
    expect(ksTwoSample([1, 2], [5, 6])).toBe(1);
    // ties: two samples of the same discrete distribution do not differ
    expect(ksTwoSample([0, 0, 1, 1, 2, 2], [0, 1, 2])).toBe(0);
    expect(Array.from(binProportions([0, 1], [-1, 0, 0.5, 1, 2]))).toEqual([0.2, 0.4, 0.4]);
  });

  it('a reference of a discrete column gets one bin per value', () => {
    const values = Array.from({ length: 300 }, (_, i) => i % 3);
    const ref = ColumnReference.fromSample(values)!;
    expect(Array.from(ref.edges)).toEqual([0, 1, 2]);
    expect(psi(ref.expected, binProportions(ref.edges, values))).toBeLessThan(1e-3);
  });
});

describe('drift monitor', () => {
  it('with a reference from the first requests served: gauges stay low on the same distribution and rise on a shifted one, one warning per episode', async () => {
    const { drift, registry, log } = monitor();
    const rand = gaussian(7);
    await serve(drift, rand, 50, 0); // the reference (and the first window)
    await serve(drift, rand, 50, 0); // a fresh window from the same distribution
    drift.compute();
    for (const column of COLUMNS) {
      expect(await gauge(registry, 'switchyard_drift_psi', column), column).toBeLessThan(0.1);
      expect(await gauge(registry, 'switchyard_drift_ks', column), column).toBeLessThan(0.1);
      expect(await gauge(registry, 'switchyard_drift_detected', column), column).toBe(0);
    }
    expect(await metricValue(registry, 'switchyard_drift_reference_columns', { model: 'tabular', source: 'traffic' })).toBe(8);
    expect(log.lines.filter((l) => l.msg === 'drift detected')).toEqual([]);

    await serve(drift, rand, 50, 1); // inputs shifted by one standard deviation
    drift.compute();
    for (const column of ['x[0]', 'x[1]', 'x[2]', 'x[3]', 'label']) {
      expect(await gauge(registry, 'switchyard_drift_psi', column), column).toBeGreaterThan(0.2);
      expect(await gauge(registry, 'switchyard_drift_ks', column), column).toBeGreaterThan(0.2);
      expect(await gauge(registry, 'switchyard_drift_detected', column), column).toBe(1);
    }
    await serve(drift, rand, 50, 1);
    drift.compute(); // still drifting: no second warning
    const warnings = log.lines.filter((l) => l.msg === 'drift detected');
    expect(warnings.filter((w) => w.fields.column === 'x[0]')).toHaveLength(1);
    expect(warnings[0].fields).toMatchObject({ model: 'tabular', version: '1', psi_threshold: 0.2, ks_threshold: 0.1 });

    await serve(drift, rand, 50, 0); // back to normal
    drift.compute();
    expect(await gauge(registry, 'switchyard_drift_detected', 'x[0]')).toBe(0);
    expect(log.lines.filter((l) => l.msg === 'drift ended' && l.fields.column === 'x[0]')).toHaveLength(1);
  });

  it('with reference.json written from a JSON-lines sample: compared from the first full window, low when unshifted, high when shifted', async () => {
    const rand = gaussian(11);
    const sample = path.join(root, 'sample.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { inputs, outputs } = request(rand, 0);
      const rows = (t: Tensor) => Array.from(t.data as Float32Array);
      lines.push(
        JSON.stringify({
          inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, 4], data: rows(inputs[0]) }],
          outputs: [
            { name: 'probabilities', datatype: 'FP32', shape: [ROWS, 3], data: rows(outputs[0]) },
            { name: 'label', datatype: 'INT64', shape: [ROWS], data: Array.from(outputs[1].data as BigInt64Array, Number) },
          ],
        }),
      );
    }
    writeFileSync(sample, `${lines.join('\n')}\n`);
    const written = await writeReferenceFile({ root, model: 'tabular', version: '1', file: sample });
    expect(written.columns).toEqual(COLUMNS);
    expect(written.sampleSize).toBe(1000);
    const file = parseReferenceFile(readFileSync(written.path, 'utf8'));
    expect(file.model_name).toBe('tabular');

    const unshifted = monitor({ reference_requests: 1_000_000 });
    await serve(unshifted.drift, rand, 50, 0);
    unshifted.drift.compute();
    expect(await metricValue(unshifted.registry, 'switchyard_drift_reference_columns', { model: 'tabular', source: 'file' })).toBe(8);
    for (const column of COLUMNS) expect(await gauge(unshifted.registry, 'switchyard_drift_detected', column), column).toBe(0);

    const shifted = monitor({ reference_requests: 1_000_000 });
    await serve(shifted.drift, rand, 50, -1.5);
    shifted.drift.compute();
    expect(await gauge(shifted.registry, 'switchyard_drift_psi', 'x[2]')).toBeGreaterThan(0.5);
    expect(await gauge(shifted.registry, 'switchyard_drift_detected', 'x[2]')).toBe(1);
  });

  it('reads CSV samples and histogram references; columns missing from the file come from traffic', async () => {
    const rand = gaussian(3);
    const csv = ['x[0],x[1],x[2],x[3]', ...Array.from({ length: 800 }, () => [0, 1, 2, 3].map(() => rand(0).toFixed(4)).join(','))];
    writeFileSync(path.join(root, 'sample.csv'), `${csv.join('\n')}\n`);
    const written = await writeReferenceFile({ root, model: 'tabular', version: '1', file: path.join(root, 'sample.csv') });
    expect(written.columns).toEqual(['x[0]', 'x[1]', 'x[2]', 'x[3]']);
    // add a hand-written histogram for the label column: classes 0, 1, 2 at 25%, 50%, 25%
    const ref = JSON.parse(readFileSync(written.path, 'utf8')) as { columns: Record<string, unknown> };
    ref.columns.label = { histogram: { edges: [-0.5, 0.5, 1.5, 2.5], counts: [25, 50, 25] } };
    writeFileSync(written.path, JSON.stringify(ref));

    const { drift, registry } = monitor({ reference_requests: 50 });
    await serve(drift, rand, 50, 0);
    drift.compute();
    expect(await metricValue(registry, 'switchyard_drift_reference_columns', { model: 'tabular', source: 'file' })).toBe(5);
    expect(await metricValue(registry, 'switchyard_drift_reference_columns', { model: 'tabular', source: 'traffic' })).toBe(3);
    for (const column of ['x[0]', 'x[3]']) expect(await gauge(registry, 'switchyard_drift_ks', column), column).toBeLessThan(0.1);
    // a discrete column against a histogram of its classes: PSI on the histogram's bins, KS on its edges
    expect(await gauge(registry, 'switchyard_drift_psi', 'label')).toBeLessThan(0.1);
    expect(await gauge(registry, 'switchyard_drift_ks', 'label')).toBeLessThan(0.1);
    expect(await gauge(registry, 'switchyard_drift_detected', 'label')).toBe(0);

    const shifted = monitor({ reference_requests: 50 });
    await serve(shifted.drift, rand, 50, 1);
    shifted.drift.compute();
    expect(await gauge(shifted.registry, 'switchyard_drift_psi', 'label')).toBeGreaterThan(0.2);
    expect(await gauge(shifted.registry, 'switchyard_drift_ks', 'label')).toBeGreaterThan(0.2);
  });

  it('an invalid reference.json is reported and the reference is taken from traffic', async () => {
    writeFileSync(path.join(root, 'tabular', '1', 'reference.json'), JSON.stringify({ format: 'switchyard-drift-reference/1', columns: { 'x[0]': { quantiles: { probabilities: [0, 0.5], values: [1, 2] } } } }));
    const { drift, registry, log } = monitor();
    await serve(drift, gaussian(5), 100, 0);
    drift.compute();
    const warning = log.lines.find((l) => l.msg.startsWith('drift reference.json is unusable'));
    expect(warning?.fields.reason).toMatch(/column "x\[0\]": quantile probabilities must start at 0 and end at 1/);
    expect(await metricValue(registry, 'switchyard_drift_reference_columns', { model: 'tabular', source: 'traffic' })).toBe(8);
  });

  it('bounds the columns per tensor by max_columns and skips tensors it cannot read by column', async () => {
    const wide: ModelSignature = {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 40] },
        { name: 'image', datatype: 'FP32', shape: [-1, 3, 8, 8] },
        { name: 'ids', datatype: 'INT64', shape: [-1, 4] },
      ],
      outputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
    };
    const { drift } = monitor({ max_columns: 8 });
    drift.observe({ name: 'wide', version: '1', signature: wide }, [new Tensor('x', 'FP32', [1, 40], new Float32Array(40))], []);
    expect(drift.state('wide', '1')?.layout.names).toEqual(['x[0]', 'x[1]', 'x[2]', 'x[3]', 'x[4]', 'x[5]', 'x[6]', 'x[7]']);
  });

  it('sample files with problems are refused with the line and the reason', async () => {
    writeFileSync(path.join(root, 'bad.jsonl'), '{"x": [1, 2]}\nnot json\n');
    await expect(writeReferenceFile({ root, model: 'tabular', version: '1', file: path.join(root, 'bad.jsonl') })).rejects.toThrow(/bad.jsonl line 2: not JSON/);
    writeFileSync(path.join(root, 'bad.csv'), 'a,b\n1,x\n');
    await expect(writeReferenceFile({ root, model: 'tabular', version: '1', file: path.join(root, 'bad.csv') })).rejects.toThrow(/line 2, column "b": "x" is not a number/);
    await expect(writeReferenceFile({ root, model: 'tabular', version: '9', file: path.join(root, 'bad.csv') })).rejects.toThrow(SampleFileError);
    await expect(writeReferenceFile({ root, model: '..', version: '1', file: path.join(root, 'bad.csv') })).rejects.toThrow(/not a folder name/);
    expect(() => parseReferenceFile('{"format": "other", "columns": {}}')).toThrow(ReferenceFormatError);
  });
});
