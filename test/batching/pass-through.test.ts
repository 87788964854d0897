import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InferRequest } from '../../src/core/request.js';
import { Tensor } from '../../src/core/tensor.js';
import { DynamicBatcher, PassThroughScheduler, createScheduler, type BatchRunner } from '../../src/batching/index.js';
import { EventLog } from './events.js';
import { errorOf, options, settle, useFakeClock } from './helpers.js';

/** A non-batching model: "v" FP32 [4] → "neg" = -v, "sq" = v²; each call waits for release(). */
class ManualRunner implements BatchRunner {
  readonly calls: { inputs: Tensor[]; outputNames: readonly string[]; release: () => void }[] = [];
  running = 0;
  most = 0;

  run(inputs: Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    this.running++;
    this.most = Math.max(this.most, this.running);
    return new Promise((resolve) => {
      this.calls.push({
        inputs,
        outputNames,
        release: () => {
          this.running--;
          const v = inputs[0].data as Float32Array;
          resolve(outputNames.map((n) => new Tensor(n, 'FP32', [4], n === 'neg' ? v.map((x) => -x) : v.map((x) => x * x))));
        },
      });
    });
  }
}

function req(id: number, extra: { priority?: number; timeoutUs?: number; outputs?: string[] } = {}): InferRequest {
  const r = new InferRequest('p', '1', [new Tensor('v', 'FP32', [4], new Float32Array([id, id + 1, id + 2, id + 3]))], 'rest', 0);
  r.id = `q${id}`;
  r.priority = extra.priority ?? 0;
  r.timeoutUs = extra.timeoutUs ?? 0;
  r.outputs = extra.outputs?.map((name) => ({ name, binary: false, parameters: null })) ?? null;
  return r;
}

let events: EventLog;
beforeEach(() => {
  events = new EventLog();
});
afterEach(() => {
  events.stop();
  vi.useRealTimers();
});

describe('PassThroughScheduler', () => {
  it('runs each request alone, unconcatenated, at most `instances` at once, FIFO', async () => {
    const runner = new ManualRunner();
    const s = new PassThroughScheduler(options(runner, { maxBatchSize: 0, instances: 2, outputNames: ['neg', 'sq'] }));
    const reqs = [req(0), req(10), req(20), req(30)];
    const pending = reqs.map((r) => s.enqueue(r, 1));
    expect(runner.calls).toHaveLength(2);
    expect(s.inflight).toBe(2);
    expect(s.queued).toBe(2);
    const first = runner.calls[0].inputs[0];
    expect(first.shape).toEqual([4]);
    expect(Array.from(first.data as Float32Array)).toEqual([0, 1, 2, 3]);
    expect(first.data).not.toBe(reqs[0].inputs[0].data); // a copy the runner may transfer
    runner.calls[1].release();
    await settle();
    expect(runner.calls.map((c) => (c.inputs[0].data as Float32Array)[0])).toEqual([0, 10, 20]);
    for (const i of [0, 2, 3]) {
      runner.calls[i].release();
      await settle();
    }
    expect(runner.most).toBe(2);
    const responses = await Promise.all(pending);
    responses.forEach((res, i) => {
      expect(res.id).toBe(`q${i * 10}`);
      expect(res.batchSize).toBe(1);
      expect(res.outputs.map((o) => o.name)).toEqual(['neg', 'sq']);
      expect(Array.from(res.outputs[0].data as Float32Array)).toEqual([0, 1, 2, 3].map((d) => -(i * 10 + d)));
      expect(res.outputs[1].shape).toEqual([4]);
    });
    expect(events.reasons).toEqual(['full', 'full', 'instance_free', 'instance_free']);
  });

  it('orders by priority and answers with the requested outputs only', async () => {
    const runner = new ManualRunner();
    const s = new PassThroughScheduler(options(runner, { maxBatchSize: 0, priorityLevels: 2, defaultPriorityLevel: 2, outputNames: ['neg', 'sq'] }));
    s.enqueue(req(0), 1);
    const low = s.enqueue(req(1), 1);
    const high = s.enqueue(req(2, { priority: 1, outputs: ['sq'] }), 1);
    runner.calls[0].release();
    await settle();
    expect(runner.calls[1].outputNames).toEqual(['sq']);
    runner.calls[1].release();
    const h = await high;
    expect(h.outputs.map((o) => o.name)).toEqual(['sq']);
    expect(Array.from(h.outputs[0].data as Float32Array)).toEqual([4, 9, 16, 25]);
    runner.calls[2].release();
    expect((await low).id).toBe('q1');
  });

  it('shares timeout, queue size, cancel and drain rules with the batcher', async () => {
    useFakeClock();
    const runner = new ManualRunner();
    const s = new PassThroughScheduler(options(runner, { maxBatchSize: 0, maxQueueSize: 2, outputNames: ['neg', 'sq'] }));
    const p0 = s.enqueue(req(0), 1);
    const timed = errorOf(s.enqueue(req(1, { timeoutUs: 1000 }), 1));
    const r2 = req(2);
    const cancelled = errorOf(s.enqueue(r2, 1));
    expect((await errorOf(s.enqueue(req(3), 1))).code).toBe('SY_ERR_QUEUE_FULL');
    r2.cancel();
    expect((await cancelled).code).toBe('SY_ERR_CANCELLED');
    vi.advanceTimersByTime(1);
    expect((await timed).code).toBe('SY_ERR_TIMEOUT');
    expect(s.queued).toBe(0);
    const d = s.drain(100);
    expect((await errorOf(s.enqueue(req(4), 1))).code).toBe('SY_ERR_DRAINING');
    runner.calls[0].release();
    await d;
    await expect(p0).resolves.toMatchObject({ id: 'q0' });
    expect(runner.calls).toHaveLength(1);
  });
});

describe('createScheduler', () => {
  it('picks the dynamic batcher when max_batch_size > 0, pass-through otherwise', () => {
    const runner = new ManualRunner();
    expect(createScheduler(options(runner, { maxBatchSize: 4 }))).toBeInstanceOf(DynamicBatcher);
    expect(createScheduler(options(runner, { maxBatchSize: 0 }))).toBeInstanceOf(PassThroughScheduler);
  });
});
