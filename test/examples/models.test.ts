import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRepository, generateModels } from '../../examples/generate-models.js';
import { HEAVY_LAYERS, HEAVY_WEIGHTS } from '../../examples/lib/models.js';
import { decodeGraph, decodeModel, floatValues } from '../../examples/lib/onnx-builder.js';
import { halfTensor } from '../../src/runtime/ort-half.js';

const REPO = fileURLToPath(new URL('../../examples/models/', import.meta.url));
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

function modelPath(name: string, version: number): string {
  return join(REPO, name, String(version), 'model.onnx');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

function metadataOf(session: ort.InferenceSession, which: 'inputMetadata' | 'outputMetadata'): unknown[] {
  return session[which].map((m) => ({ name: m.name, type: m.isTensor ? m.type : null, shape: m.isTensor ? m.shape : null }));
}

/** Seeded inputs for the tests (not the generator's PRNG, on purpose). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  };
}

function floatData(t: ort.Tensor): Float32Array {
  expect(t.type).toBe('float32');
  return t.data as Float32Array;
}

describe('example model repository generator', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'switchyard-examples-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes exactly the committed files, byte for byte', async () => {
    const written = await generateModels(tmp);
    expect((await listFiles(tmp))).toEqual([...written].sort());
    expect(await listFiles(REPO)).toEqual([...written].sort());
    for (const rel of written) {
      const fresh = await readFile(join(tmp, rel));
      const committed = await readFile(join(REPO, rel));
      expect(fresh.equals(committed), `${rel} differs from what examples/generate-models.ts writes`).toBe(true);
    }
  });

  it('is deterministic and keeps the repository small', () => {
    const a = buildRepository();
    const b = buildRepository();
    let total = 0;
    for (const [rel, bytes] of a) {
      expect(Buffer.from(bytes).equals(Buffer.from(b.get(rel)!))).toBe(true);
      total += bytes.byteLength;
    }
    expect(total).toBeLessThan(200 * 1024);
  });

  it('writes ONNX IR 8, opset 17 models from producer switchyard-examples', () => {
    for (const [rel, bytes] of buildRepository()) {
      if (!rel.endsWith('.onnx')) continue;
      const model = decodeModel(bytes);
      expect(Number(model.irVersion), rel).toBe(8);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)]), rel).toEqual([['', 17]]);
      expect(model.producerName, rel).toBe('switchyard-examples');
    }
  });

  it('writes per-model configs', async () => {
    const cfg = async (name: string): Promise<unknown> => parseYaml(await readFile(join(REPO, name, 'config.yaml'), 'utf8'));
    expect(await cfg('tabular')).toEqual({
      max_batch_size: 64,
      dynamic_batching: { max_queue_delay_us: 0, max_queue_size: 4096 },
      instance_count: 1,
      version_policy: 'all',
      outputs: { probabilities: { label_filename: 'labels.txt' } },
    });
    expect(await readFile(join(REPO, 'tabular', 'labels.txt'), 'utf8')).toBe('low\nmedium\nhigh\n');
    expect(await cfg('heavy')).toEqual({ max_batch_size: 64, dynamic_batching: { max_queue_delay_us: 0 }, instance_count: 1 });
    expect(await cfg('dtypes')).toEqual({ max_batch_size: 8 });
  });
});

describe('tabular model', () => {
  const sessions: ort.InferenceSession[] = [];
  beforeAll(async () => {
    sessions.push(await ort.InferenceSession.create(modelPath('tabular', 1), SESSION_OPTIONS));
    sessions.push(await ort.InferenceSession.create(modelPath('tabular', 2), SESSION_OPTIONS));
  });
  afterAll(async () => {
    for (const s of sessions) await s.release();
  });

  it('has the signature x FP32 [batch,16] → probabilities FP32 [batch,3], label INT64 [batch] in both versions', () => {
    for (const s of sessions) {
      expect(metadataOf(s, 'inputMetadata')).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 16] }]);
      expect(metadataOf(s, 'outputMetadata')).toEqual([
        { name: 'probabilities', type: 'float32', shape: ['batch', 3] },
        { name: 'label', type: 'int64', shape: ['batch'] },
      ]);
    }
  });

  it('returns softmax rows that sum to 1 and labels that are their argmax, matching a reference forward pass', async () => {
    const batch = 7;
    const rand = lcg(42);
    const x = Float32Array.from({ length: batch * 16 }, () => rand() * 3);
    for (const [i, s] of sessions.entries()) {
      const out = await s.run({ x: new ort.Tensor('float32', x, [batch, 16]) });
      expect(out.probabilities.dims).toEqual([batch, 3]);
      expect(out.label.dims).toEqual([batch]);
      expect(out.label.type).toBe('int64');
      const p = floatData(out.probabilities);
      const labels = out.label.data as BigInt64Array;
      const expected = referenceTabular(await readFile(modelPath('tabular', i + 1)), x, batch);
      for (let r = 0; r < batch; r++) {
        const row = Array.from(p.subarray(r * 3, r * 3 + 3));
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(Number(labels[r])).toBe(row.indexOf(Math.max(...row)));
        for (let c = 0; c < 3; c++) expect(row[c]).toBeCloseTo(expected[r * 3 + c], 5);
      }
    }
  });

  it('gives different outputs in versions 1 and 2', async () => {
    const rand = lcg(7);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 4 * 16 }, rand), [4, 16]);
    const [a, b] = await Promise.all(sessions.map((s) => s.run({ x })));
    const pa = floatData(a.probabilities);
    const pb = floatData(b.probabilities);
    const maxDiff = Math.max(...pa.map((v, i) => Math.abs(v - pb[i])));
    expect(maxDiff).toBeGreaterThan(0.01);
  });
});

/** Forward pass of the tabular MLP in float64, from the initializers stored in the model file. */
function referenceTabular(bytes: Uint8Array, x: Float32Array, batch: number): Float64Array {
  const { initializers } = decodeGraph(bytes);
  const init = new Map([...initializers].map(([name, t]) => [name, floatValues(t)]));
  const dense = (inp: ArrayLike<number>, w: Float32Array, b: Float32Array, n: number, m: number, relu: boolean): Float64Array => {
    const out = new Float64Array(batch * m);
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < m; j++) {
        let acc = b[j];
        for (let k = 0; k < n; k++) acc += inp[r * n + k] * w[k * m + j];
        out[r * m + j] = relu ? Math.max(0, acc) : acc;
      }
    }
    return out;
  };
  const h = dense(x, init.get('w1')!, init.get('b1')!, 16, 32, true);
  const logits = dense(h, init.get('w2')!, init.get('b2')!, 32, 3, false);
  const probs = new Float64Array(batch * 3);
  for (let r = 0; r < batch; r++) {
    const row = logits.subarray(r * 3, r * 3 + 3);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < 3; c++) probs[r * 3 + c] = e[c] / sum;
  }
  return probs;
}

describe('heavy model', () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(modelPath('heavy', 1), SESSION_OPTIONS);
  });
  afterAll(async () => {
    await session.release();
  });

  it('has the signature x FP32 [batch,512] → y FP32 [batch,512]', () => {
    expect(metadataOf(session, 'inputMetadata')).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 512] }]);
    expect(metadataOf(session, 'outputMetadata')).toEqual([{ name: 'y', type: 'float32', shape: ['batch', 512] }]);
  });

  it('stores no weight matrices in the file', async () => {
    const graph = decodeGraph(await readFile(modelPath('heavy', 1)));
    for (const t of graph.initializers.values()) {
      expect(t.dims.reduce((a, d) => a * d, 1), t.name).toBeLessThanOrEqual(2);
    }
    expect(graph.opTypes.filter((op) => op === 'MatMul')).toHaveLength(HEAVY_LAYERS);
  });

  it('runs batches of 1 and 64 with bounded activations', async () => {
    const rand = lcg(3);
    for (const batch of [1, 64]) {
      const x = new ort.Tensor('float32', Float32Array.from({ length: batch * 512 }, rand), [batch, 512]);
      const out = await session.run({ x });
      expect(out.y.dims).toEqual([batch, 512]);
      const y = floatData(out.y);
      let sumSq = 0;
      let bad = 0;
      for (const v of y) {
        if (!Number.isFinite(v) || v < 0) bad++;
        sumSq += v * v;
      }
      expect(bad, 'non-finite or negative outputs after the final Relu').toBe(0);
      const rms = Math.sqrt(sumSq / y.length);
      expect(rms).toBeGreaterThan(0.05);
      expect(rms).toBeLessThan(5);
    }
  });

  it(`is constant-folded by ONNX Runtime into ${HEAVY_WEIGHTS} 512x512 weights equal to the documented hash, used by ${HEAVY_LAYERS} layers`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-heavy-'));
    try {
      const optimized = join(dir, 'heavy.optimized.onnx');
      const s = await ort.InferenceSession.create(modelPath('heavy', 1), {
        graphOptimizationLevel: 'basic',
        optimizedModelFilePath: optimized,
      });
      await s.release();
      const graph = decodeGraph(await readFile(optimized));
      expect(graph.opTypes).toEqual(Array.from({ length: HEAVY_LAYERS }, () => ['MatMul', 'Relu']).flat());
      for (let k = 0; k < HEAVY_WEIGHTS; k++) {
        const t = graph.initializers.get(`w${k}`)!;
        expect(t.dims).toEqual([512, 512]);
        expect(Buffer.from(t.raw).equals(Buffer.from(heavyWeight(k).buffer)), `w${k}`).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** W_k per the doc of heavyModel(): ((48271·i²) mod P)/P − 0.5, scaled, i from k·512². */
function heavyWeight(k: number): Float32Array {
  const n = 512 * 512;
  const P = 2147483647;
  const invP = Math.fround(1 / P);
  const scale = Math.fround(Math.sqrt(24 / 512));
  const w = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const i = k * n + j;
    // (A·i²) mod P computed as (A·(i² mod P)) mod P: every product stays below 2^53.
    const h = (48271 * ((i * i) % P)) % P;
    const u = Math.fround(Math.fround(Math.fround(h) * invP) - 0.5);
    w[j] = Math.fround(u * scale);
  }
  return w;
}

describe('dtypes model', () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(modelPath('dtypes', 1), SESSION_OPTIONS);
  });
  afterAll(async () => {
    await session.release();
  });

  // [input name suffix, ORT type, values for a [2,3] tensor]; floats include NaN, ±0, ±Inf, extremes.
  const CASES: ReadonlyArray<readonly [string, ort.Tensor.Type, ort.Tensor.DataType]> = [
    ['bool', 'bool', Uint8Array.of(1, 0, 1, 1, 0, 0)],
    ['uint8', 'uint8', Uint8Array.of(0, 1, 127, 128, 254, 255)],
    ['uint16', 'uint16', Uint16Array.of(0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff)],
    ['uint32', 'uint32', Uint32Array.of(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff)],
    ['uint64', 'uint64', BigUint64Array.of(0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n)],
    ['int8', 'int8', Int8Array.of(-128, -1, 0, 1, 126, 127)],
    ['int16', 'int16', Int16Array.of(-32768, -1, 0, 1, 32766, 32767)],
    ['int32', 'int32', Int32Array.of(-(2 ** 31), -1, 0, 1, 2 ** 31 - 2, 2 ** 31 - 1)],
    ['int64', 'int64', BigInt64Array.of(-(2n ** 63n), -(2n ** 53n) - 1n, 0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n)],
    // FP16 as raw bits: 1.0, -0, +Inf, NaN, smallest subnormal, largest finite
    ['fp16', 'float16', Uint16Array.of(0x3c00, 0x8000, 0x7c00, 0x7e00, 0x0001, 0x7bff)],
    ['fp32', 'float32', Float32Array.of(Math.PI, -0, Infinity, NaN, 1.4e-45, 3.4028234663852886e38)],
    ['fp64', 'float64', Float64Array.of(Math.PI, -0, -Infinity, NaN, Number.MIN_VALUE, Number.MAX_VALUE)],
    ['bytes', 'string', ['', 'a', 'switchyard', 'ünïcødé', '日本語', 'tab\tnew\nline']],
  ];

  it('has in_<dt> → out_<dt> of shape [batch, n] for all 13 datatypes', () => {
    expect(metadataOf(session, 'inputMetadata')).toEqual(
      CASES.map(([dt, type]) => ({ name: `in_${dt}`, type, shape: ['batch', `n_${dt}`] })),
    );
    expect(metadataOf(session, 'outputMetadata')).toEqual(
      CASES.map(([dt, type]) => ({ name: `out_${dt}`, type, shape: ['batch', `n_${dt}`] })),
    );
  });

  it('round-trips every datatype exactly, bit for bit', async () => {
    const feeds: Record<string, ort.Tensor> = {};
    // FP16 as the gateway's workers feed it (new ort.Tensor('float16', …) fails on Node 24: src/runtime/ort-half.ts)
    for (const [dt, type, data] of CASES) feeds[`in_${dt}`] = type === 'float16' ? halfTensor(data as Uint16Array, [2, 3]) : new ort.Tensor(type, data, [2, 3]);
    const out = await session.run(feeds);
    for (const [dt, type, data] of CASES) {
      const t = out[`out_${dt}`];
      expect(t.type, dt).toBe(type);
      expect(t.dims, dt).toEqual([2, 3]);
      if (Array.isArray(data)) {
        expect(t.data, dt).toEqual(data);
      } else {
        const bytes = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        expect(bytes(t.data as ArrayBufferView).equals(bytes(data as ArrayBufferView)), dt).toBe(true);
      }
    }
  });

  it('accepts different second dimensions per input and a batch of 8', async () => {
    const feeds: Record<string, ort.Tensor> = {};
    CASES.forEach(([dt, type, data], i) => {
      const n = 1 + (i % 4);
      const len = 8 * n;
      const values = Array.isArray(data)
        ? Array.from({ length: len }, (_, j) => data[j % data.length])
        : (() => {
            const ctor = data.constructor as new (length: number) => ArrayLike<unknown> & { [k: number]: unknown };
            const v = new ctor(len);
            for (let j = 0; j < len; j++) v[j] = (data as ArrayLike<unknown>)[j % data.length];
            return v;
          })();
      feeds[`in_${dt}`] = type === 'float16' ? halfTensor(values as Uint16Array, [8, n]) : new ort.Tensor(type, values as ort.Tensor.DataType, [8, n]);
    });
    const out = await session.run(feeds);
    CASES.forEach(([dt], i) => expect(out[`out_${dt}`].dims, dt).toEqual([8, 1 + (i % 4)]));
  });
});
