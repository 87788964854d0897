import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FixedQueue } from '../../src/core/fixed-queue.js';

describe('FixedQueue', () => {
  it('is FIFO across wrap-around and growth by doubling', () => {
    const q = new FixedQueue<number>(4);
    expect(q.capacity).toBe(4);
    for (let i = 0; i < 3; i++) q.push(i);
    expect(q.shift()).toBe(0);
    expect(q.shift()).toBe(1);
    for (let i = 3; i < 9; i++) q.push(i); // wraps, then grows 4 → 8
    expect(q.capacity).toBe(8);
    expect(q.length).toBe(7);
    expect(q.peek()).toBe(2);
    expect([0, 1, 6, 7].map((i) => q.at(i))).toEqual([2, 3, 8, undefined]);
    const out: number[] = [];
    for (let v = q.shift(); v !== undefined; v = q.shift()) out.push(v);
    expect(out).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(q.shift()).toBeUndefined();
  });

  it('behaves as an array under any sequence of push, shift and retain', () => {
    const op = fc.oneof(fc.record({ push: fc.integer() }), fc.constant('shift' as const), fc.constant('retain-even' as const));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new FixedQueue<number>(2);
        const model: number[] = [];
        for (const o of ops) {
          if (o === 'shift') expect(q.shift()).toBe(model.shift());
          else if (o === 'retain-even') {
            const dropped = q.retain((v) => v % 2 === 0);
            const kept = model.filter((v) => v % 2 === 0);
            expect(dropped).toBe(model.length - kept.length);
            model.splice(0, model.length, ...kept);
          } else {
            q.push(o.push);
            model.push(o.push);
          }
          expect(q.length).toBe(model.length);
          expect(Array.from({ length: q.length }, (_, i) => q.at(i))).toEqual(model);
        }
      }),
    );
  });
});
