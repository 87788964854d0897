import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../src/batching/deadline-heap.js';
import { FixedQueue } from '../../src/batching/fixed-queue.js';
import { DISPATCHED, DROPPED, Pending, QUEUED } from '../../src/batching/pending.js';
import { RequestQueue } from '../../src/batching/request-queue.js';
import { request } from './helpers.js';

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

describe('DeadlineHeap', () => {
  it('pops in deadline order after any pushes and removals', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 100 }), fc.array(fc.nat(), { maxLength: 30 }), (deadlines, removals) => {
        const heap = new DeadlineHeap<{ deadline: number; heapIndex: number }>();
        const items = deadlines.map((deadline) => ({ deadline, heapIndex: -1 }));
        items.forEach((i) => heap.push(i));
        const removed = new Set<(typeof items)[number]>();
        for (const r of removals) {
          if (items.length === 0) break;
          const it = items[r % items.length];
          heap.remove(it);
          heap.remove(it); // twice is harmless
          removed.add(it);
          expect(it.heapIndex).toBe(-1);
        }
        const out: number[] = [];
        for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x.deadline);
        const want = items.filter((i) => !removed.has(i)).map((i) => i.deadline).sort((a, b) => a - b);
        expect(out).toEqual(want);
      }),
    );
  });
});

describe('RequestQueue', () => {
  const pending = (id: number, level: number, items = 1): Pending => new Pending(request(id), items, level, id, 0);

  it('counts live requests and rows at once; first() is the highest level, oldest() the longest waiting', () => {
    const q = new RequestQueue(3);
    const a = pending(1, 2, 3);
    const b = pending(2, 1, 2);
    const c = pending(3, 1, 1);
    [a, b, c].forEach((p) => q.push(p));
    expect([q.count, q.items]).toEqual([3, 6]);
    expect(q.first()).toBe(b);
    expect(q.oldest()).toBe(a);
    q.drop(b);
    expect(b.state).toBe(DROPPED);
    expect([q.count, q.items]).toEqual([2, 4]);
    expect(q.first()).toBe(c);
    q.take(c);
    q.take(c); // leaving twice counts once
    expect(c.state).toBe(DISPATCHED);
    expect([q.count, q.items]).toEqual([1, 3]);
    expect(q.first()).toBe(a);
    const gone: Pending[] = [];
    q.removeAll((p) => gone.push(p));
    expect(gone).toEqual([a]);
    expect([q.count, q.items, q.first()]).toEqual([0, 0, undefined]);
  });

  it('compacts a level when dead entries outnumber live ones', () => {
    const q = new RequestQueue(1);
    const ps = Array.from({ length: 200 }, (_, i) => pending(i, 0));
    ps.forEach((p) => q.push(p));
    for (let i = 0; i < 200; i++) if (i % 10 !== 0) q.drop(ps[i]);
    expect(q.count).toBe(20);
    expect(q.level(0).length).toBeLessThan(100);
    const live = Array.from({ length: q.level(0).length }, (_, i) => q.level(0).at(i) as Pending).filter((p) => p.state === QUEUED);
    expect(live.map((p) => p.enqueuedAt)).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  });
});
