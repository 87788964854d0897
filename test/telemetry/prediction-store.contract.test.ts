/**
 * The PredictionStore contract (src/telemetry/evaluation/store.ts), run against both
 * implementations: memory (one replica) and Redis (a real redis-server, shared by replicas).
 * What only one implementation does (the memory ring's growth and expiry clock, Redis's
 * bound over several replicas) is tested beside it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryPredictionStore, RedisPredictionStore, type PredictionStore } from '../../src/telemetry/evaluation/index.js';
import { Prediction } from '../../src/telemetry/evaluation/prediction.js';
import { openRedis } from '../../src/redis/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const p = (v: number) => new Prediction('tabular', '1', 'class', [v]);

let redis: TestRedis;
let prefixes = 0;
const open: PredictionStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const implementations: [string, (max: number) => PredictionStore][] = [
  ['memory', (max) => new MemoryPredictionStore(max, 600)],
  [
    'redis',
    (max) =>
      new RedisPredictionStore({
        client: openRedis(redis.url, 'predictions'),
        ownsClient: true,
        keyPrefix: `contract${prefixes++}:`,
        ttlS: 600,
        maxPredictions: max,
        onError: (e) => {
          throw e;
        },
      }),
  ],
];

describe.each(implementations)('PredictionStore contract: %s', (_name, make) => {
  const store = (max = 100): PredictionStore => {
    const s = make(max);
    open.push(s);
    return s;
  };

  it('answers a remembered prediction whole (model, version, kind, every row) and null for an id it never saw', async () => {
    const s = store();
    s.remember('one', p(2));
    s.remember('rows', new Prediction('reg', '3', 'value', [0.5, -1.25, 1e-7]));
    expect(await s.get('one')).toEqual(p(2));
    expect(await s.get('rows')).toEqual(new Prediction('reg', '3', 'value', [0.5, -1.25, 1e-7]));
    expect(await s.get('never')).toBeNull();
  });

  it('answers an id remembered twice with its newest prediction', async () => {
    const s = store();
    s.remember('a', p(1));
    s.remember('a', p(7));
    expect(await s.get('a')).toEqual(p(7));
  });

  it('marks a remembered id labelled once: true the first time, false after', async () => {
    const s = store();
    s.remember('a', p(1));
    expect(await s.markLabelled('a')).toBe(true);
    expect(await s.markLabelled('a')).toBe(false);
    expect(await s.get('a')).toEqual(p(1));
  });

  it('marks nothing for an id it does not hold', async () => {
    const s = store();
    expect(await s.markLabelled('never')).toBe(false);
    expect(await s.get('never')).toBeNull();
  });

  it('of concurrent marks of one id exactly one is true', async () => {
    const s = store();
    s.remember('a', p(1));
    const results = await Promise.all(Array.from({ length: 16 }, () => s.markLabelled('a')));
    expect(results.filter((r) => r)).toHaveLength(1);
  });

  it('keeps at most max predictions, forgetting the oldest first', async () => {
    const s = store(3);
    for (let i = 0; i < 5; i++) s.remember(`r${i}`, p(i));
    expect(await s.get('r0')).toBeNull();
    expect(await s.get('r1')).toBeNull();
    for (const i of [2, 3, 4]) expect(await s.get(`r${i}`)).toEqual(p(i));
  });

  it('keeps ids with any characters apart (no key or slot collisions)', async () => {
    const s = store();
    const ids = ['a:b', 'a', 'a:labelled', 'ü-ñ', ' ', '#index'];
    ids.forEach((id, i) => s.remember(id, p(i)));
    for (const [i, id] of ids.entries()) expect(await s.get(id)).toEqual(p(i));
    expect(await s.markLabelled('a:labelled')).toBe(true);
    expect(await s.markLabelled('a')).toBe(true);
  });
});
