import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamicBatcher } from '../../src/batching/index.js';
import { EventLog } from './events.js';
import { FakeRunner, options, request, settle, useFakeClock } from './helpers.js';

let events: EventLog;
beforeEach(() => {
  events = new EventLog();
});
afterEach(() => {
  events.stop();
  vi.useRealTimers();
});

/** Resolves running batches one after the other until none is left. */
async function runAll(runner: FakeRunner): Promise<void> {
  await settle();
  while (runner.batches.some((b) => !b.settled)) {
    runner.pending().resolve();
    await settle();
  }
}

describe('DynamicBatcher: batch formation', () => {
  it('runs the first of 64 concurrent requests alone and batches the rest while the instance is busy', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, instances: 1 }));
    const pending = Array.from({ length: 64 }, (_, i) => b.enqueue(request(i), 1));
    expect(runner.sizes).toEqual([1]);
    expect(b.queued).toBe(63);
    expect(b.inflight).toBe(1);
    await runAll(runner);
    expect(runner.sizes).toEqual([1, 8, 8, 8, 8, 8, 8, 8, 7]);
    expect(events.reasons).toEqual(['delay', 'full', 'full', 'full', 'full', 'full', 'full', 'full', 'instance_free']);
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.batchSize)).toEqual([1, ...Array<number>(56).fill(8), ...Array<number>(7).fill(7)]);
    // FIFO: batches hold consecutive requests in arrival order
    expect(runner.batches.flatMap((x) => x.ids)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(b.queued).toBe(0);
    expect(b.inflight).toBe(0);
  });

  it('dispatches at once while an instance is free when the delay is 0', async () => {
    const runner = new FakeRunner('instant');
    const b = new DynamicBatcher(options(runner, { instances: 1 }));
    const r0 = await b.enqueue(request(0), 1);
    const r1 = await b.enqueue(request(1), 1);
    expect(runner.sizes).toEqual([1, 1]);
    expect(r0.batchSize).toBe(1);
    expect(r1.batchSize).toBe(1);
  });

  it('never splits a multi-row request and never exceeds max_batch_size', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8 }));
    b.enqueue(request(0, 1), 1);
    for (const [id, rows] of [[1, 3], [2, 3], [3, 3], [4, 2], [5, 8]] as const) b.enqueue(request(id, rows), rows);
    await runAll(runner);
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [1, 2], [3, 4], [5]]);
    expect(runner.sizes).toEqual([1, 6, 5, 8]);
  });

  it('leaves as soon as the queue holds max_batch_size rows, before the delay', () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, maxQueueDelayUs: 1_000_000 }));
    for (let i = 0; i < 7; i++) b.enqueue(request(i), 1);
    expect(runner.sizes).toEqual([]);
    b.enqueue(request(7), 1);
    expect(runner.sizes).toEqual([8]);
    expect(events.reasons).toEqual(['full']);
  });

  it('runs at most `instances` batches at once', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 2, instances: 2 }));
    for (let i = 0; i < 9; i++) b.enqueue(request(i), 1);
    expect(runner.sizes).toEqual([1, 1]);
    expect(b.inflight).toBe(2);
    expect(b.queued).toBe(7);
    let most = 0;
    while (runner.batches.some((x) => !x.settled)) {
      most = Math.max(most, runner.batches.filter((x) => !x.settled).length);
      runner.pending().resolve();
      await settle();
    }
    expect(most).toBe(2);
    expect(runner.sizes).toEqual([1, 1, 2, 2, 2, 1]);
  });
});

describe('DynamicBatcher: delay and preferred sizes', () => {
  it('waits max_queue_delay_us from the oldest request, then sends what is queued', () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, maxQueueDelayUs: 10_000 }));
    b.enqueue(request(0), 1);
    vi.advanceTimersByTime(4);
    b.enqueue(request(1, 2), 2);
    vi.advanceTimersByTime(5);
    expect(runner.sizes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(runner.batches.map((x) => x.ids)).toEqual([[0, 1]]);
    expect(events.reasons).toEqual(['delay']);
  });

  it('fires the delay timer on a real clock, never before the delay', async () => {
    const runner = new FakeRunner('instant');
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, maxQueueDelayUs: 30_000 }));
    const [a, c] = await Promise.all([b.enqueue(request(0), 1), b.enqueue(request(1), 1)]);
    expect(runner.sizes).toEqual([2]);
    expect(a.queueUs).toBeGreaterThanOrEqual(30_000);
    expect(c.batchSize).toBe(2);
  });

  it('sends the largest preferred size once the queue holds the largest preferred size', () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 16, preferredBatchSizes: [4, 8], maxQueueDelayUs: 100_000, instances: 2 }));
    for (let i = 0; i < 7; i++) b.enqueue(request(i), 1);
    expect(runner.sizes).toEqual([]);
    b.enqueue(request(7), 1);
    expect(runner.sizes).toEqual([8]);
    // rows 2, 2, 3, 2: 9 rows queued; whole requests make 4 but not 8
    for (const [id, rows] of [[10, 2], [11, 2], [12, 3], [13, 2]] as const) b.enqueue(request(id, rows), rows);
    expect(runner.batches.map((x) => x.ids)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [10, 11]]);
    expect(events.reasons).toEqual(['preferred', 'preferred']);
  });

  it('when the delay expires, sends the largest preferred size it can form, else all', async () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 16, preferredBatchSizes: [4, 8], maxQueueDelayUs: 100_000 }));
    for (let i = 0; i < 5; i++) b.enqueue(request(i), 1);
    vi.advanceTimersByTime(100);
    expect(runner.sizes).toEqual([4]);
    runner.pending().resolve();
    await settle();
    // the fifth waited past the delay for the instance
    expect(runner.sizes).toEqual([4, 1]);
    runner.pending().resolve();
    await settle();
    // rows 3 and 2 cannot make 4 or 8: everything goes when the delay expires
    b.enqueue(request(10, 3), 3);
    b.enqueue(request(11, 2), 2);
    vi.advanceTimersByTime(99);
    expect(runner.sizes).toEqual([4, 1]);
    vi.advanceTimersByTime(1);
    expect(runner.sizes).toEqual([4, 1, 5]);
    expect(events.reasons).toEqual(['delay', 'instance_free', 'delay']);
  });

  it('reports instance_free when queued requests waited past the delay for a busy instance', async () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, maxQueueDelayUs: 1000 }));
    b.enqueue(request(0), 1);
    vi.advanceTimersByTime(1);
    b.enqueue(request(1), 1);
    b.enqueue(request(2), 1);
    vi.advanceTimersByTime(5);
    expect(runner.sizes).toEqual([1]);
    runner.pending().resolve();
    await settle();
    expect(runner.sizes).toEqual([1, 2]);
    expect(events.reasons).toEqual(['delay', 'instance_free']);
  });
});

describe('DynamicBatcher: priorities and shapes', () => {
  it('dispatches higher priority first, FIFO within a level; 0 and out-of-range use the default', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 1, priorityLevels: 3, defaultPriorityLevel: 2 }));
    b.enqueue(request(0), 1);
    b.enqueue(request(1, 1, 2, { priority: 3 }), 1);
    b.enqueue(request(2, 1, 2, { priority: 0 }), 1);
    b.enqueue(request(3, 1, 2, { priority: 1 }), 1);
    b.enqueue(request(4, 1, 2, { priority: 1 }), 1);
    b.enqueue(request(5, 1, 2, { priority: 9 }), 1);
    await runAll(runner);
    expect(runner.batches.map((x) => x.ids[0])).toEqual([0, 3, 4, 2, 5, 1]);
  });

  it('fills a batch in priority order', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 3, priorityLevels: 2, defaultPriorityLevel: 2 }));
    b.enqueue(request(0), 1);
    b.enqueue(request(1), 1);
    b.enqueue(request(2), 1);
    b.enqueue(request(3, 1, 2, { priority: 1 }), 1);
    b.enqueue(request(4), 1);
    await runAll(runner);
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [3, 1, 2], [4]]);
  });

  it('does not mix requests whose non-batch dims differ; the skipped one heads the next batch', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8 }));
    b.enqueue(request(0, 1, 2), 1);
    b.enqueue(request(1, 1, 2), 1);
    b.enqueue(request(2, 1, 3), 1);
    b.enqueue(request(3, 2, 2), 2);
    b.enqueue(request(4, 1, 3), 1);
    runner.pending().resolve();
    await settle();
    expect(runner.batches[1].ids).toEqual([1, 3]);
    expect(runner.batches[1].inputs[0].shape).toEqual([3, 2]);
    // newer [*, 2] requests do not overtake the waiting [*, 3] ones
    b.enqueue(request(5, 1, 2), 1);
    await runAll(runner);
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [1, 3], [2, 4], [5]]);
    expect(runner.batches[2].inputs[0].shape).toEqual([2, 3]);
  });

  it('does not hold back a full queue behind a mismatched head until the delay', () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 4, maxQueueDelayUs: 1_000_000, instances: 2 }));
    b.enqueue(request(0, 1, 2), 1);
    b.enqueue(request(1, 1, 3), 1);
    b.enqueue(request(2, 1, 3), 1);
    expect(runner.sizes).toEqual([]);
    b.enqueue(request(3, 1, 3), 1); // 4 rows queued, but only 1 fits with the head
    expect(runner.batches.map((x) => x.ids)).toEqual([[0]]);
    b.enqueue(request(4, 1, 3), 1);
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [1, 2, 3, 4]]);
    expect(events.reasons).toEqual(['full', 'full']);
  });

  it('rejects a request whose rows exceed max_batch_size instead of queueing it forever', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 4 }));
    await expect(b.enqueue(request(0, 5), 5)).rejects.toMatchObject({ code: 'SY_ERR_BATCH_TOO_LARGE' });
    await expect(b.enqueue(request(1, 1), 0)).rejects.toMatchObject({ code: 'SY_ERR_INVALID_INPUT' });
    expect(b.queued).toBe(0);
  });

  it('refuses invalid options', () => {
    const runner = new FakeRunner();
    expect(() => new DynamicBatcher(options(runner, { maxBatchSize: 0 }))).toThrow(RangeError);
    expect(() => new DynamicBatcher(options(runner, { preferredBatchSizes: [16] }))).toThrow(/preferred/);
    expect(() => new DynamicBatcher(options(runner, { instances: 0 }))).toThrow(/instances/);
    expect(() => new DynamicBatcher(options(runner, { priorityLevels: 2, defaultPriorityLevel: 3 }))).toThrow(/defaultPriorityLevel/);
  });
});
