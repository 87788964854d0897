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
});
