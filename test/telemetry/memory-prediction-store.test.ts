import { describe, expect, it } from 'vitest';
import { MemoryPredictionStore } from '../../src/telemetry/evaluation/index.js';
import { Prediction } from '../../src/telemetry/evaluation/prediction.js';

const p = (v: number) => new Prediction('tabular', '1', 'class', [v]);

describe('MemoryPredictionStore', () => {
  it('forgets a prediction ttl seconds after it was made', async () => {
    let now = 1000;
    const s = new MemoryPredictionStore(10, 5, () => now);
    s.remember('a', p(1));
    now += 4999;
    expect((await s.get('a'))?.values).toEqual([1]);
    now += 1;
    expect(await s.get('a')).toBeNull();
    expect(await s.markLabelled('a')).toBe(false);
  });

  it('keeps at most max, dropping the oldest; expired ones leave as new ones come', async () => {
    let now = 0;
    const s = new MemoryPredictionStore(3, 10, () => now);
    for (let i = 0; i < 5; i++) s.remember(`r${i}`, p(i));
    expect(s.size).toBe(3);
    expect(await s.get('r1')).toBeNull();
    expect((await s.get('r4'))?.values).toEqual([4]);
    now = 20_000;
    s.remember('late', p(9));
    expect(s.size).toBe(1);
  });

  it('labels a prediction once', async () => {
    const s = new MemoryPredictionStore(3, 10);
    s.remember('a', p(1));
    expect(await s.markLabelled('a')).toBe(true);
    expect(await s.markLabelled('a')).toBe(false);
    expect(await s.markLabelled('missing')).toBe(false);
  });

  it('grows its ring past the first 1,024 slots in order, keeping values, targets and labels', async () => {
    let now = 0;
    const s = new MemoryPredictionStore(5000, 10, () => now);
    s.remember('multi', new Prediction('reg', '2', 'value', [0.5, 1.5, 2.5]));
    expect(await s.markLabelled('multi')).toBe(true);
    for (let i = 0; i < 3000; i++) s.remember(`r${i}`, p(i));
    expect(s.size).toBe(3001);
    expect(await s.get('multi')).toEqual(new Prediction('reg', '2', 'value', [0.5, 1.5, 2.5]));
    expect(await s.markLabelled('multi')).toBe(false);
    for (const i of [0, 1023, 1024, 2999]) expect(await s.get(`r${i}`)).toEqual(p(i));
    // at max the oldest leave first: 'multi' (first in), then r0, r1 …
    for (let i = 3000; i < 7000; i++) s.remember(`r${i}`, p(i));
    expect(s.size).toBe(5000);
    expect(await s.get('multi')).toBeNull();
    expect(await s.get('r1999')).toBeNull();
    expect(await s.get('r2000')).toEqual(p(2000));
    expect(await s.get('r6999')).toEqual(p(6999));
    // every remaining entry expires at once
    now = 10_000;
    s.remember('after', p(1));
    expect(s.size).toBe(1);
  });

  it('answers a remembered id again with its newest prediction, and the old slot does not evict it', async () => {
    const s = new MemoryPredictionStore(3, 10, () => 0);
    s.remember('a', p(1));
    s.remember('b', p(2));
    s.remember('a', p(3));
    expect(await s.get('a')).toEqual(p(3));
    // the first 'a' reaches the front and leaves; the newer 'a' stays
    s.remember('c', p(4));
    expect(await s.get('a')).toEqual(p(3));
    expect(await s.get('b')).toEqual(p(2));
    s.remember('d', p(5));
    expect(await s.get('b')).toBeNull();
    expect(await s.get('a')).toEqual(p(3));
  });

  it('agrees with a plain Map-and-queue model over 20,000 random operations (collisions, replacements, expiry, growth)', async () => {
    let now = 0;
    const max = 1500;
    const ttlMs = 2000;
    const s = new MemoryPredictionStore(max, ttlMs / 1000, () => now);
    // the reference: what the store must answer, kept the simplest way
    const ref = new Map<string, { value: number; expiresAt: number; labelled: boolean; seq: number }>();
    const order: { id: string; seq: number; expiresAt: number }[] = [];
    let seq = 0;
    let rand = 12345;
    const next = (n: number): number => {
      rand = (Math.imul(rand, 1103515245) + 12345) >>> 0;
      return rand % n;
    };
    const refLive = (id: string) => {
      const e = ref.get(id);
      if (e === undefined) return null;
      if (e.expiresAt <= now) {
        ref.delete(id);
        return null;
      }
      return e;
    };
    for (let op = 0; op < 20_000; op++) {
      const id = `req-${next(3000)}`;
      const kind = next(10);
      if (kind < 5) {
        // evict as the store does: from the front while full or expired
        while (order.length > 0 && (order.length >= max || order[0].expiresAt <= now)) {
          const front = order.shift()!;
          if (ref.get(front.id)?.seq === front.seq) ref.delete(front.id);
        }
        seq++;
        ref.set(id, { value: op, expiresAt: now + ttlMs, labelled: false, seq });
        order.push({ id, seq, expiresAt: now + ttlMs });
        s.remember(id, p(op));
      } else if (kind < 8) {
        const e = refLive(id);
        expect(await s.get(id), `get ${id} at op ${op}`).toEqual(e === null ? null : p(e.value));
      } else if (kind < 9) {
        const e = refLive(id);
        const first = e !== null && !e.labelled;
        if (first) e.labelled = true;
        expect(await s.markLabelled(id), `label ${id} at op ${op}`).toBe(first);
      } else {
        now += next(40);
      }
    }
    expect(s.size).toBeGreaterThan(0);
  });
});
