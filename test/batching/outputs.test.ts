import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { Tensor } from '../../src/core/tensor.js';
import { DynamicBatcher, type BatchRunner } from '../../src/batching/index.js';
import { EventLog } from './events.js';
import { FakeRunner, errorOf, options, request, settle } from './helpers.js';

let events: EventLog;
beforeEach(() => {
  events = new EventLog();
});
afterEach(() => {
  events.stop();
});

function values(t: Tensor): number[] {
  return Array.from(t.data as Float32Array);
}

/** The fake model's outputs for request `id` with `rows` rows of `k` columns. */
function expected(id: number, rows: number, k = 2): { double: number[]; plus: number[]; sum: number[] } {
  const x = Array.from({ length: rows * k }, (_, i) => id * 1000 + i);
  const sum = Array.from({ length: rows }, (_, r) => x.slice(r * k, r * k + k).reduce((a, v) => a + v, 0));
  return { double: x.map((v) => v * 2), plus: x.map((v) => v + 1000), sum };
}

describe('DynamicBatcher: batch inputs and per-request outputs', () => {
  it('concatenates inputs on dim 0 into fresh buffers and gives each request exactly its rows', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8 }));
    const reqs = [request(0, 1), request(1, 3), request(2, 1), request(3, 2)];
    const pending = reqs.map((r) => b.enqueue(r, r.inputs[0].shape[0]));
    // a batch of one is a copy too: the runner may transfer it
    const first = runner.batches[0].inputs[0];
    expect(first.data).not.toBe(reqs[0].inputs[0].data);
    expect((first.data as Float32Array).buffer).not.toBe((reqs[0].inputs[0].data as Float32Array).buffer);
    expect(values(first)).toEqual([0, 1]);
    runner.pending().resolve();
    await settle();
    const batch = runner.batches[1].inputs[0];
    expect(batch.name).toBe('x');
    expect(batch.datatype).toBe('FP32');
    expect(batch.shape).toEqual([6, 2]);
    expect(values(batch)).toEqual([...expected(1, 3).double, ...expected(2, 1).double, ...expected(3, 2).double].map((v) => v / 2));
    runner.pending().resolve();
    const responses = await Promise.all(pending);
    responses.forEach((res, i) => {
      const rows = reqs[i].inputs[0].shape[0];
      const want = expected(i, rows);
      expect(res.id).toBe(`r${i}`);
      expect(res.modelName).toBe('m');
      expect(res.modelVersion).toBe('1');
      expect(res.outputs.map((o) => o.name)).toEqual(['double', 'plus', 'sum']);
      expect(res.outputs.map((o) => o.shape)).toEqual([[rows, 2], [rows, 2], [rows, 1]]);
      expect(values(res.outputs[0])).toEqual(want.double);
      expect(values(res.outputs[1])).toEqual(want.plus);
      expect(values(res.outputs[2])).toEqual(want.sum);
      expect(res.batchSize).toBe(i === 0 ? 1 : 6);
      expect(res.queueUs).toBeGreaterThanOrEqual(0);
      expect(res.computeUs).toBeGreaterThanOrEqual(0);
    });
    // outputs are views into the batch's output buffer, not copies
    expect((responses[1].outputs[0].data as Float32Array).buffer).toBe((responses[3].outputs[0].data as Float32Array).buffer);
  });

  it('returns only the requested outputs, in the requested order, and asks the runner for their union', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8 }));
    b.enqueue(request(0), 1);
    const p1 = b.enqueue(request(1, 2, 2, { outputs: ['sum'] }), 2);
    const p2 = b.enqueue(request(2, 1, 2, { outputs: ['sum', 'double'] }), 1);
    runner.pending().resolve();
    await settle();
    expect(runner.batches[1].outputNames).toEqual(['double', 'sum']);
    runner.pending().resolve();
    const [r1, r2] = await Promise.all([p1, p2]);
    expect(r1.outputs.map((o) => o.name)).toEqual(['sum']);
    expect(values(r1.outputs[0])).toEqual(expected(1, 2).sum);
    expect(r2.outputs.map((o) => o.name)).toEqual(['sum', 'double']);
    expect(values(r2.outputs[0])).toEqual(expected(2, 1).sum);
    expect(values(r2.outputs[1])).toEqual(expected(2, 1).double);
    // a request that names no outputs gets all of them, so the runner computes all
    b.enqueue(request(3), 1);
    const p4 = b.enqueue(request(4, 1, 2, { outputs: ['plus'] }), 1);
    const p5 = b.enqueue(request(5), 1);
    runner.pending().resolve();
    await settle();
    expect(runner.batches[3].outputNames).toEqual(['double', 'plus', 'sum']);
    runner.pending().resolve();
    expect((await p4).outputs.map((o) => o.name)).toEqual(['plus']);
    expect((await p5).outputs.map((o) => o.name)).toEqual(['double', 'plus', 'sum']);
  });

  it('rejects an unknown output name at enqueue', async () => {
    const b = new DynamicBatcher(options(new FakeRunner()));
    const err = await errorOf(b.enqueue(request(0, 1, 2, { outputs: ['nope'] }), 1));
    expect(err.code).toBe('SY_ERR_INVALID_INPUT');
    expect(err.message).toContain('"nope"');
  });

  it('concatenates BYTES inputs', async () => {
    const seen: Tensor[][] = [];
    const runner: BatchRunner = {
      run(inputs) {
        seen.push(inputs);
        const n = inputs[0].shape[0];
        const lens = new Int32Array(n);
        (inputs[0].data as Uint8Array[]).forEach((s, i) => (lens[i] = s.length));
        return Promise.resolve([new Tensor('len', 'INT32', [n, 1], lens)]);
      },
    };
    const b = new DynamicBatcher(options(runner, { outputNames: ['len'], maxQueueDelayUs: 50_000 }));
    const str = (s: string): Uint8Array => new TextEncoder().encode(s);
    const mk = (id: number, words: string[]): ReturnType<typeof request> => {
      const r = request(id);
      r.inputs = [new Tensor('s', 'BYTES', [words.length], words.map(str))];
      return r;
    };
    const [a, c] = await Promise.all([b.enqueue(mk(0, ['a', 'bbb']), 2), b.enqueue(mk(1, ['cc']), 1)]);
    expect(seen[0][0].shape).toEqual([3]);
    expect(Array.from(a.outputs[0].data as Int32Array)).toEqual([1, 3]);
    expect(Array.from(c.outputs[0].data as Int32Array)).toEqual([2]);
  });
});

describe('DynamicBatcher: runner failures', () => {
  it('fails every request of the batch and frees the instance', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8 }));
    const p0 = b.enqueue(request(0), 1);
    const p1 = b.enqueue(request(1), 1);
    const p2 = b.enqueue(request(2), 1);
    runner.pending().reject(new Error('onnxruntime exploded at /secret/path'));
    const e0 = await errorOf(p0);
    expect(e0.code).toBe('SY_ERR_INTERNAL');
    expect(e0.message).not.toContain('/secret/path');
    await settle();
    expect(runner.batches[1].ids).toEqual([1, 2]);
    expect(b.inflight).toBe(1);
    const died = new GatewayError('SY_ERR_WORKER_DIED', 'worker died');
    runner.pending().reject(died);
    expect(await errorOf(p1)).toBe(died);
    expect(await errorOf(p2)).toBe(died);
    expect(b.inflight).toBe(0);
    runner.mode = 'instant';
    expect((await b.enqueue(request(3), 1)).batchSize).toBe(1);
    expect(events.completes.map((c) => c.error)).toEqual([true, true, false]);
  });

  it('fails the batch when the runner throws synchronously or returns outputs that do not fit', async () => {
    let calls = 0;
    const runner: BatchRunner = {
      run(inputs) {
        calls++;
        if (calls === 1) throw new Error('sync');
        if (calls === 2) return Promise.resolve([new Tensor('double', 'FP32', [1, 2], new Float32Array(2))]);
        return Promise.resolve([0, 1, 2].map((j) => new Tensor(`o${j}`, 'FP32', [inputs[0].shape[0] + 1, 2], new Float32Array(2 * inputs[0].shape[0] + 2))));
      },
    };
    const b = new DynamicBatcher(options(runner));
    expect((await errorOf(b.enqueue(request(0), 1))).code).toBe('SY_ERR_INTERNAL');
    const wrongCount = await errorOf(b.enqueue(request(1), 1));
    expect(wrongCount.code).toBe('SY_ERR_INFERENCE_FAILED');
    expect(wrongCount.message).toMatch(/1 outputs, expected 3/);
    const wrongRows = await errorOf(b.enqueue(request(2), 1));
    expect(wrongRows.code).toBe('SY_ERR_INFERENCE_FAILED');
    expect(wrongRows.message).toMatch(/dim 0/);
    expect(b.inflight).toBe(0);
  });

  it('publishes dispatch and complete events', async () => {
    const runner = new FakeRunner('instant');
    const b = new DynamicBatcher(options(runner, { modelName: 'm', modelVersion: '7' }));
    await b.enqueue(request(0, 3), 3);
    expect(events.dispatches).toEqual([{ model: 'm', version: '7', items: 3, requests: 1, reason: 'delay' }]);
    expect(events.completes).toHaveLength(1);
    expect(events.completes[0]).toMatchObject({ model: 'm', version: '7', items: 3, requests: 1, error: false });
    expect(events.completes[0].computeUs).toBeGreaterThanOrEqual(0);
  });
});
