import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InferRequest, InferResponse } from '../../src/core/request.js';
import { DynamicBatcher } from '../../src/batching/index.js';
import { FakeRunner, options, request, settle, useFakeClock } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

type Step =
  | { kind: 'enqueue'; rows: number; k: number; priority: number }
  | { kind: 'complete'; pick: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'tick'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('enqueue' as const), rows: fc.integer({ min: 1, max: 12 }), k: fc.integer({ min: 1, max: 3 }), priority: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 6 }) }) },
);

const config = fc.record({
  max: fc.integer({ min: 1, max: 12 }),
  instances: fc.integer({ min: 1, max: 3 }),
  levels: fc.integer({ min: 1, max: 3 }),
  delayUs: fc.constantFrom(0, 1000, 5000),
  preferred: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
  steps: fc.array(step, { maxLength: 80 }),
});

interface Sent {
  readonly req: InferRequest;
  readonly rows: number;
  result: InferResponse | Error | null;
}

describe('DynamicBatcher property', () => {
  it('gives every request exactly its own rows back and never exceeds max_batch_size', async () => {
    useFakeClock();
    await fc.assert(
      fc.asyncProperty(config, async (c) => {
        const runner = new FakeRunner();
        const b = new DynamicBatcher(
          options(runner, {
            maxBatchSize: c.max,
            instances: c.instances,
            priorityLevels: c.levels,
            defaultPriorityLevel: c.levels,
            maxQueueDelayUs: c.delayUs,
            preferredBatchSizes: c.preferred.filter((n) => n <= c.max),
          }),
        );
        const sent: Sent[] = [];
        const running = (): number => runner.batches.filter((x) => !x.settled).length;
        for (const s of c.steps) {
          if (s.kind === 'enqueue') {
            const rows = 1 + ((s.rows - 1) % c.max);
            const entry: Sent = { req: request(sent.length, rows, s.k, { priority: s.priority }), rows, result: null };
            sent.push(entry);
            b.enqueue(entry.req, rows).then(
              (res) => (entry.result = res),
              (err: Error) => (entry.result = err),
            );
          } else if (s.kind === 'complete') {
            const open = runner.batches.filter((x) => !x.settled);
            if (open.length > 0) open[s.pick % open.length].resolve();
          } else if (s.kind === 'cancel') {
            if (sent.length > 0) sent[s.pick % sent.length].req.cancel();
          } else {
            vi.advanceTimersByTime(s.ms);
          }
          await settle();
          expect(running()).toBeLessThanOrEqual(c.instances);
        }
        // let everything finish
        for (let guard = 0; b.queued + b.inflight > 0; guard++) {
          expect(guard).toBeLessThan(10_000);
          vi.advanceTimersByTime(6);
          const open = runner.batches.find((x) => !x.settled);
          if (open !== undefined) open.resolve();
          await settle();
          expect(running()).toBeLessThanOrEqual(c.instances);
        }
        await settle();

        const seen = new Map<number, number>();
        for (const batch of runner.batches) {
          expect(batch.items).toBeLessThanOrEqual(c.max);
          for (const id of batch.ids) seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        sent.forEach((entry, id) => {
          const res = entry.result;
          expect(res).not.toBeNull();
          if (res instanceof Error) {
            // only a request cancelled while queued fails, and it never ran
            expect(res).toMatchObject({ code: 'SY_ERR_CANCELLED' });
            expect(seen.has(id)).toBe(false);
            return;
          }
          expect(seen.get(id)).toBe(1);
          const r = res as InferResponse;
          const k = entry.req.inputs[0].shape[1];
          expect(r.id).toBe(`r${id}`);
          expect(r.outputs[0].shape).toEqual([entry.rows, k]);
          const x = Array.from(entry.req.inputs[0].data as Float32Array);
          expect(Array.from(r.outputs[0].data as Float32Array)).toEqual(x.map((v) => v * 2));
          expect(r.outputs[2].shape).toEqual([entry.rows, 1]);
          expect(r.batchSize).toBeLessThanOrEqual(c.max);
          expect(r.batchSize).toBeGreaterThanOrEqual(entry.rows);
        });
      }),
      { numRuns: 150 },
    );
  });
});
