import { describe, expect, it } from 'vitest';
import { Tensor, toHalf } from '../../src/core/index.js';
import {
  RecordPayload,
  RequestRecord,
  capturePayload,
  describeTensors,
  summariseOutput,
  summariseOutputs,
} from '../../src/telemetry/request-log/index.js';
import { JsonBytes } from '../../src/telemetry/request-log/json-bytes.js';

describe('output summary', () => {
  it('gives argmax and score per row for a classifier-like 2-D float output', () => {
    const probs = new Tensor('probabilities', 'FP32', [2, 3], Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.2, 0.3]));
    const s = summariseOutput(probs);
    expect(s.argmax).toEqual([1, 0]);
    expect(s.score).toEqual([Math.fround(0.7), Math.fround(0.5)]);
    expect(JSON.parse(JSON.stringify(s))).toEqual({ name: 'probabilities', datatype: 'FP32', shape: [2, 3], argmax: [1, 0], score: [Math.fround(0.7), Math.fround(0.5)] });
  });

  it('gives the values of small outputs and of one-value-per-row outputs (64-bit integers and FP16 decoded)', () => {
    const label = new Tensor('label', 'INT64', [3], BigInt64Array.from([2n, 0n, 1n]));
    expect(summariseOutput(label).values).toEqual([2, 0, 1]);
    const half = new Tensor('y', 'FP16', [2, 1], Uint16Array.from([toHalf(1.5), toHalf(-2)]));
    expect(summariseOutput(half).values).toEqual([1.5, -2]);
    const perRow = new Tensor('score', 'FP32', [100], new Float32Array(100).fill(0.25));
    expect(summariseOutput(perRow).values).toHaveLength(100);
  });

  it('gives only the shape of large outputs and of BYTES', () => {
    const big = new Tensor('y', 'FP32', [4, 512, 3], new Float32Array(4 * 512 * 3));
    const s = summariseOutput(big);
    expect([s.argmax, s.score, s.values]).toEqual([null, null, null]);
    expect(JSON.parse(JSON.stringify(s))).toEqual({ name: 'y', datatype: 'FP32', shape: [4, 512, 3] });
    const bytes = new Tensor('text', 'BYTES', [1], [new TextEncoder().encode('hi')]);
    expect(JSON.parse(JSON.stringify(summariseOutputs([bytes])))).toEqual([{ name: 'text', datatype: 'BYTES', shape: [1] }]);
  });
});

describe('request record', () => {
  it('serialises every field under its documented name, nulls included', () => {
    const r = new RequestRecord('abc', 'tabular', 'grpc');
    r.time = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
    r.traceId = '0af7651916cd43dd8448eb211c80319c';
    r.route = 'fraud';
    r.policy = 'canary';
    r.target = 'tabular/2';
    r.canaryStep = 2;
    r.version = '2';
    r.queueUs = 12.4;
    r.computeUs = 300.6;
    r.totalUs = 500;
    r.batchSize = 4;
    r.inputs = describeTensors([new Tensor('x', 'FP32', [1, 16], new Float32Array(16))]);
    r.featuresDefaulted = 2;
    const json = JSON.parse(r.toLine()) as Record<string, unknown>;
    expect(json).toEqual({
      time: '2025-01-02T03:04:05.006Z',
      request_id: 'abc',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      protocol: 'grpc',
      route: 'fraud',
      policy: 'canary',
      target: 'tabular/2',
      canary_step: 2,
      bandit_arm: null,
      shadow: false,
      model_name: 'tabular',
      model_version: '2',
      status: 'success',
      error: null,
      latency_us: { features: 0, queue: 12, compute: 301, total: 500 },
      batch_size: 4,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16] }],
      outputs: null,
      features_defaulted: 2,
      payload: null,
    });
    expect(r.toLine()).toBe(JSON.stringify(r.toJSON()));
  });

  it('every record has the same keys in the same order (stable shape)', () => {
    const a = new RequestRecord('a', 'm', 'rest');
    const b = new RequestRecord('b', 'm', 'ws');
    b.status = 'SY_ERR_QUEUE_FULL';
    b.error = 'queue is full';
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(Object.keys(JSON.parse(a.toLine()) as object)).toEqual(Object.keys(JSON.parse(b.toLine()) as object));
  });

  it('a sampled payload holds copies of the tensors as JSON values', () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const inputs = [
      new Tensor('x', 'FP32', [2, 2], data),
      new Tensor('flag', 'BOOL', [2], Uint8Array.from([1, 0])),
      new Tensor('name', 'BYTES', [1], [new TextEncoder().encode('héllo')]),
    ];
    const r = new RequestRecord('p', 'm', 'rest');
    r.payload = new RecordPayload(capturePayload(inputs), null);
    data[0] = 99; // the caller may reuse its buffers afterwards
    const json = JSON.parse(r.toLine()) as { payload: { inputs: unknown[]; outputs: unknown } };
    expect(json.payload.inputs).toEqual([
      { name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] },
      { name: 'flag', datatype: 'BOOL', shape: [2], data: [true, false] },
      { name: 'name', datatype: 'BYTES', shape: [1], data: ['héllo'] },
    ]);
    expect(json.payload.outputs).toBeNull();
  });
});

describe('RequestRecord.toLine and writeJson', () => {
  it('are exactly JSON.stringify(toJSON()) for any record (writeJson in UTF-8)', async () => {
    const fc = (await import('fast-check')).default;
    const text = fc.oneof(fc.string(), fc.constant('quote " back\\slash \n newline \u2028'));
    const maybe = <T>(a: import('fast-check').Arbitrary<T>) => fc.option(a, { nil: null });
    const floats = fc.array(fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 1e15, -1e15, 999999999999999, 1e21, 5e-7, 0.1)), { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.record({
          id: text,
          model: text,
          protocol: fc.constantFrom('rest', 'grpc', 'ws'),
          time: fc.double({ min: 0, max: 4e12, noNaN: true }),
          traceId: maybe(text),
          route: maybe(text),
          canaryStep: maybe(fc.integer()),
          shadow: fc.boolean(),
          version: maybe(text),
          error: maybe(text),
          us: fc.double({ min: 0, max: 1e9, noNaN: true }),
          batch: fc.nat(),
          argmax: maybe(fc.array(fc.nat(), { maxLength: 3 })),
          score: maybe(floats),
          values: maybe(floats),
          defaulted: maybe(fc.nat()),
          withPayload: fc.boolean(),
        }),
        (v) => {
          const r = new RequestRecord(v.id, v.model, v.protocol);
          r.time = v.time;
          r.traceId = v.traceId;
          r.route = v.route;
          r.canaryStep = v.canaryStep;
          r.shadow = v.shadow;
          r.version = v.version;
          r.error = v.error;
          r.status = v.error === null ? 'success' : 'SY_ERR_INVALID_INPUT';
          r.queueUs = v.us;
          r.totalUs = v.us * 2;
          r.batchSize = v.batch;
          r.inputs = describeTensors([new Tensor(v.id, 'FP32', [1, 2], new Float32Array(2))]);
          const summary = summariseOutput(new Tensor('p', 'FP32', [1, 3], Float32Array.of(0.1, 0.2, 0.7)));
          r.outputs = [Object.assign(Object.create(Object.getPrototypeOf(summary) as object) as typeof summary, { ...summary, argmax: v.argmax, score: v.score, values: v.values })];
          r.featuresDefaulted = v.defaulted;
          if (v.withPayload) r.payload = new RecordPayload(capturePayload([new Tensor(v.id, 'FP32', [1, 2], Float32Array.of(1.5, -2))]), null);
          // the byte form first: toLine() caches the line, which writeJson would then copy
          const bytes = new JsonBytes(16);
          bytes.ascii('prefix ');
          r.writeJson(bytes);
          const expected = JSON.stringify(r.toJSON());
          expect(bytes.bytes().toString('utf8')).toBe(`prefix ${expected}`);
          expect(r.toLine()).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
