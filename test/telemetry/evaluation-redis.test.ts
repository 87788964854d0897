import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EvaluationConfig } from '../../src/config/index.js';
import { Tensor } from '../../src/core/index.js';
import { Evaluator } from '../../src/telemetry/evaluation/index.js';
import { summariseOutputs } from '../../src/telemetry/request-log/index.js';
import { startRedis } from '../helpers/redis.js';
import { metricValue, recordingLogger, until } from './helpers.js';

let redis: Awaited<ReturnType<typeof startRedis>>;
let admin: Redis;
const replicas: Evaluator[] = [];

beforeEach(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
});
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.close()));
  admin.disconnect();
  await redis.stop();
});

const CONFIG: EvaluationConfig = { enabled: true, store: 'auto', ttl_s: 600, max_predictions: 100, key_prefix: 'switchyard:prediction:' };

/** One gateway replica's evaluator, sharing the Redis server. */
function replica(config: EvaluationConfig = CONFIG): { ev: Evaluator; registry: Registry } {
  const registry = new Registry();
  const ev = new Evaluator({ config, log: recordingLogger(), registry, redisUrl: redis.url });
  replicas.push(ev);
  return { ev, registry };
}

const predicts = (cls: number) => summariseOutputs([new Tensor('probabilities', 'FP32', [1, 3], Float32Array.from([0, 1, 2].map((k) => (k === cls ? 0.9 : 0.05))))]);

describe('label join in Redis (real redis-server)', () => {
  it('a label sent to any replica joins the prediction another replica remembered, once', async () => {
    const a = replica();
    const b = replica();
    a.ev.remember('req-1', 'tabular', '1', predicts(2));
    a.ev.remember('req-2', 'tabular', '1', predicts(0));
    await until(async () => (await admin.exists('switchyard:prediction:req-2')) === 1, 5000, 'prediction stored');
    const ttl = await admin.ttl('switchyard:prediction:req-1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(await b.ev.label('req-1', 2)).toBe('joined');
    expect(await b.ev.label('req-2', 1)).toBe('joined');
    expect(await a.ev.label('req-1', 2)).toBe('duplicate');
    expect(await a.ev.label('req-3', 1)).toBe('unmatched');
    expect(await metricValue(b.registry, 'switchyard_online_accuracy', { model: 'tabular', version: '1' })).toBe(0.5);
    expect(await metricValue(a.registry, 'switchyard_labels_duplicate_total')).toBe(1);
    expect(await metricValue(a.registry, 'switchyard_labels_unmatched_total')).toBe(1);
  });

  it('of concurrent labels for one prediction on two replicas, exactly one is joined', async () => {
    const a = replica();
    const b = replica();
    for (let i = 0; i < 20; i++) a.ev.remember(`r${i}`, 'tabular', '1', predicts(1));
    await until(async () => (await admin.exists('switchyard:prediction:r19')) === 1, 5000, 'predictions stored');
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => [a.ev.label(`r${i}`, 1), b.ev.label(`r${i}`, 1)]).flat());
    expect(outcomes.filter((o) => o === 'joined')).toHaveLength(20);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(20);
  });

  it('keeps at most max_predictions over every replica, forgetting the oldest', async () => {
    const config = { ...CONFIG, max_predictions: 10 };
    const a = replica(config);
    const b = replica(config);
    for (let i = 0; i < 25; i++) {
      (i % 2 === 0 ? a : b).ev.remember(`p${i}`, 'tabular', '1', predicts(1));
      await until(async () => (await admin.exists(`switchyard:prediction:p${i}`)) === 1, 5000, `p${i} stored`);
    }
    const keys = (await admin.keys('switchyard:prediction:*')).sort();
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `switchyard:prediction:p${15 + i}`).sort());
    expect(await admin.zcard('switchyard:prediction#index')).toBe(10);
    expect(await a.ev.label('p14', 1)).toBe('unmatched');
    expect(await b.ev.label('p24', 1)).toBe('joined');
    // the labelled mark is a field of the prediction's hash, so it goes with it
    expect(await admin.hget('switchyard:prediction:p24', 'l')).toBe('1');
    for (let i = 25; i < 40; i++) a.ev.remember(`p${i}`, 'tabular', '1', predicts(1));
    await until(async () => (await admin.exists('switchyard:prediction:p24')) === 0, 5000, 'p24 forgotten');
    expect((await admin.keys('switchyard:prediction:p24*')).length).toBe(0);
  });
});
