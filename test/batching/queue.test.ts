import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../src/batching/deadline-heap.js';
import { DISPATCHED, DROPPED, Pending, QUEUED } from '../../src/batching/pending.js';
import { RequestQueue } from '../../src/batching/request-queue.js';
import { request } from './helpers.js';

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
