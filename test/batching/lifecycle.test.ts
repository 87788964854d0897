import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamicBatcher } from '../../src/batching/index.js';
import { FakeRunner, errorOf, options, request, settle, useFakeClock } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the event loop is blocked: no timer can fire
  }
}

describe('timeouts', () => {
  it('rejects a request whose timeout passes while queued; it never reaches the runner', async () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, defaultTimeoutUs: 3000 }));
    b.enqueue(request(0, 1, 2, { timeoutUs: 60_000_000 }), 1);
    const p1 = b.enqueue(request(1, 1, 2, { timeoutUs: 5000 }), 1);
    const p2 = b.enqueue(request(2, 1, 2, { timeoutUs: 60_000_000 }), 1);
    const p3 = b.enqueue(request(3), 1); // default_timeout_us 3 ms
    const p4 = b.enqueue(request(4, 1, 2, { timeoutUs: 10_000 }), 1); // overrides the default
    vi.advanceTimersByTime(3);
    expect(b.queued).toBe(3);
    const e3 = await errorOf(p3);
    expect(e3.code).toBe('SY_ERR_TIMEOUT');
    expect(e3.httpStatus).toBe(504);
    expect(e3.message).toContain('3000 us');
    vi.advanceTimersByTime(2);
    expect(b.queued).toBe(2);
    expect((await errorOf(p1)).code).toBe('SY_ERR_TIMEOUT');
    runner.pending().resolve();
    await settle();
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [2, 4]]);
    runner.pending().resolve();
    await expect(p2).resolves.toMatchObject({ id: 'r2' });
    await expect(p4).resolves.toMatchObject({ id: 'r4' });
  });

  it('checks deadlines again at dispatch, even before the timer has fired', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner));
    b.enqueue(request(0), 1);
    const late = errorOf(b.enqueue(request(1, 1, 2, { timeoutUs: 2000 }), 1));
    const fine = b.enqueue(request(2), 1);
    busyWait(5);
    runner.pending().resolve(); // the instance frees before the deadline timer can run
    await settle();
    expect((await late).code).toBe('SY_ERR_TIMEOUT');
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [2]]);
    runner.pending().resolve();
    await expect(fine).resolves.toMatchObject({ id: 'r2' });
  });
});

describe('client deadlines', () => {
  it("drops a request whose call deadline passes while queued, before its own timeout, with the deadline's message", async () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 8, defaultTimeoutUs: 60_000_000 }));
    b.enqueue(request(0), 1);
    const r1 = request(1);
    r1.deadline = performance.now() + 4;
    const p1 = b.enqueue(r1, 1);
    const r2 = request(2, 1, 2, { timeoutUs: 2000 });
    r2.deadline = performance.now() + 50; // its own timeout comes first
    const p2 = b.enqueue(r2, 1);
    vi.advanceTimersByTime(2);
    const e2 = await errorOf(p2);
    expect(e2.message).toContain('2000 us');
    vi.advanceTimersByTime(2);
    const e1 = await errorOf(p1);
    expect(e1.code).toBe('SY_ERR_TIMEOUT');
    expect(e1.grpcStatus).toBe(4); // DEADLINE_EXCEEDED
    expect(e1.message).toMatch(/deadline passed before the request could run/);
    runner.pending().resolve();
    await settle();
    expect(runner.batches.map((x) => x.ids)).toEqual([[0]]);
  });
});

describe('queue size', () => {
  it('rejects beyond max_queue_size with a 429, decided at enqueue', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxQueueSize: 2 }));
    b.enqueue(request(0), 1); // runs: not queued
    const r1 = request(1);
    const p1 = b.enqueue(r1, 1);
    b.enqueue(request(2), 1);
    const full = b.enqueue(request(3), 1);
    expect(b.queued).toBe(2);
    const err = await errorOf(full);
    expect(err.code).toBe('SY_ERR_QUEUE_FULL');
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterS).toBe(1);
    r1.cancel();
    expect((await errorOf(p1)).code).toBe('SY_ERR_CANCELLED');
    b.enqueue(request(4), 1);
    expect(b.queued).toBe(2);
  });
});

describe('cancellation', () => {
  it('takes a cancelled request out of the queue at once and rejects it', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner));
    b.enqueue(request(0), 1);
    const reqs = [request(1), request(2), request(3)];
    const pending = reqs.map((r) => b.enqueue(r, 1));
    expect(reqs[1].onCancel).not.toBeNull();
    reqs[1].cancel();
    expect(b.queued).toBe(2);
    const err = await errorOf(pending[1]);
    expect(err.code).toBe('SY_ERR_CANCELLED');
    runner.pending().resolve();
    await settle();
    expect(runner.batches[1].ids).toEqual([1, 3]);
    // once dispatched a request no longer listens for cancel
    expect(reqs[0].onCancel).toBeNull();
    reqs[0].cancel();
    runner.pending().resolve();
    await expect(pending[0]).resolves.toMatchObject({ id: 'r1' });
  });

  it('rejects a request cancelled before it was enqueued', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner));
    const r = request(0);
    r.cancel();
    expect((await errorOf(b.enqueue(r, 1))).code).toBe('SY_ERR_CANCELLED');
    expect(runner.batches).toHaveLength(0);
  });

  it('compacts a queue emptied from the middle and keeps FIFO order', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner, { maxBatchSize: 4 }));
    b.enqueue(request(0), 1);
    const reqs = Array.from({ length: 300 }, (_, i) => request(i + 1));
    const pending = reqs.map((r) => b.enqueue(r, 1));
    for (let i = 0; i < 300; i++) if (i % 50 !== 0) reqs[i].cancel();
    expect(b.queued).toBe(6);
    await Promise.allSettled(pending.filter((_, i) => i % 50 !== 0));
    runner.pending().resolve();
    await settle();
    runner.pending().resolve();
    await settle();
    expect(runner.batches.map((x) => x.ids)).toEqual([[0], [1, 51, 101, 151], [201, 251]]);
  });
});

describe('drain', () => {
  it('finishes queued and running work, rejects new requests, then resolves', async () => {
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner));
    const p0 = b.enqueue(request(0), 1);
    const p1 = b.enqueue(request(1), 1);
    const p2 = b.enqueue(request(2), 1);
    let drained = false;
    const d = b.drain(10_000).then(() => {
      drained = true;
    });
    const refused = await errorOf(b.enqueue(request(3), 1));
    expect(refused.code).toBe('SY_ERR_DRAINING');
    expect(refused.httpStatus).toBe(503);
    runner.pending().resolve();
    await settle();
    expect(drained).toBe(false);
    expect(runner.batches[1].ids).toEqual([1, 2]);
    runner.pending().resolve();
    await d;
    await expect(Promise.all([p0, p1, p2])).resolves.toHaveLength(3);
    expect(b.drain(0)).toBeInstanceOf(Promise);
  });

  it('does not wait for the queue delay while draining', async () => {
    useFakeClock();
    const runner = new FakeRunner('instant');
    const b = new DynamicBatcher(options(runner, { maxQueueDelayUs: 60_000_000 }));
    const p = b.enqueue(request(0), 1);
    expect(runner.batches).toHaveLength(0);
    const d = b.drain(1000);
    expect(runner.sizes).toEqual([1]);
    await d;
    await expect(p).resolves.toMatchObject({ id: 'r0' });
  });

  it('after the timeout rejects what is still queued and resolves; running batches still finish', async () => {
    useFakeClock();
    const runner = new FakeRunner();
    const b = new DynamicBatcher(options(runner));
    const p0 = b.enqueue(request(0), 1);
    const p1 = b.enqueue(request(1, 1, 2, { timeoutUs: 60_000_000 }), 1);
    let drained = false;
    const d = b.drain(50).then(() => {
      drained = true;
    });
    vi.advanceTimersByTime(49);
    await settle();
    expect(drained).toBe(false);
    vi.advanceTimersByTime(1);
    await d;
    expect((await errorOf(p1)).code).toBe('SY_ERR_DRAINING');
    expect(b.queued).toBe(0);
    expect(b.inflight).toBe(1);
    runner.pending().resolve();
    await expect(p0).resolves.toMatchObject({ id: 'r0' });
    expect(runner.batches).toHaveLength(1);
  });

  it('resolves at once when idle', async () => {
    const b = new DynamicBatcher(options(new FakeRunner()));
    await b.drain(60_000);
    expect(b.queued + b.inflight).toBe(0);
  });
});
