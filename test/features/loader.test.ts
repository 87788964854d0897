import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureViewConfig } from '../../src/config/index.js';
import { FeatureService, loadFeatures, murmur3x86_32 } from '../../src/features/index.js';
import { silentLogger } from '../../src/core/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { ids, input, request, rowsOf, signature, tempFiles } from './helpers.js';

let redis: TestRedis;
let admin: Redis;
beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin.disconnect();
  await redis.stop();
  files.remove();
});

const VIEWS: Record<string, FeatureViewConfig> = {
  customer: { entity: 'customer_id', key: 'customer:{id}', fields: ['age', 'tenure_days', 'spend_30d'], dtype: 'FP32' },
  counts: { entity: 'id', key: 'counts:{id}', fields: ['n'], dtype: 'INT32' },
  driver: { format: 'feast', project: 'rides', feature_view: 'driver_stats', join_keys: { driver_id: 'INT64' }, fields: ['conv_rate', 'trips'], dtype: 'FP64' },
};

const files = tempFiles({
  'customers.csv': [
    'customer_id,age,tenure_days,spend_30d,ignored', // line 1: header
    'c1,40,100,12.5,x', //                            2 ok
    ',30,1,1,x', //                                    3 no id
    'c3,abc,1,1,x', //                                 4 unparsable age
    'c4,50,2', //                                      5 wrong number of cells
    '', //                                             6 blank: skipped
    '"c 6",61,,0.25,x', //                             7 ok, tenure_days left out
    'c7,,,,x', //                                      8 no values at all
  ].join('\n'),
  'customers.jsonl': [
    '{"customer_id": "j1", "age": 33, "tenure_days": 5, "spend_30d": 1.5}',
    '{"customer_id": "j2", "age": "33.5"}',
    '{"customer_id": "j3", "age": [1]}',
    '[1, 2]',
    '{"customer_id": "j5" ',
    '{"customer_id": 6, "spend_30d": 2}',
  ].join('\n'),
  'counts.jsonl': ['{"id": "a", "n": 1}', '{"id": "b", "n": 2.5}', '{"id": "c", "n": 3}', '{"id": "d", "n": 4}', '{"id": "e", "n": 5}'].join('\n'),
  'drivers.csv': ['driver_id,conv_rate,trips,event_timestamp', '1001,0.5,12,2024-01-01T00:00:00Z', 'x9,0.1,1,', '1002,0.25,3,'].join('\n'),
  'wrongtype.jsonl': ['{"id": "s", "n": 1}', '{"id": "t", "n": 2}'].join('\n'),
  'notes.txt': 'hello',
});

describe('switchyard features load (loadFeatures)', () => {
  it('writes the valid CSV rows as hashes and reports each rejected row with its line number and why', async () => {
    const result = await loadFeatures({ view: 'customer', views: VIEWS, file: files.path('customers.csv'), redisUrl: redis.url });
    expect(result.written).toBe(2);
    expect(result.rejected).toEqual([
      { line: 3, reason: 'no entity id: column "customer_id" is missing or empty' },
      { line: 4, reason: 'field "age": "abc" is not a value of dtype FP32' },
      { line: 5, reason: '3 cells, expected 5 as in the header' },
      { line: 8, reason: 'no values: none of the fields age, tenure_days, spend_30d is given' },
    ]);
    expect(await admin.hgetall('customer:c1')).toEqual({ age: '40', tenure_days: '100', spend_30d: '12.5' });
    expect(await admin.hgetall('customer:c 6')).toEqual({ age: '61', spend_30d: '0.25' });
    expect(await admin.exists('customer:c3', 'customer:c4')).toBe(0);
  });

  it('reads JSON lines the same way', async () => {
    const result = await loadFeatures({ view: 'customer', views: VIEWS, file: files.path('customers.jsonl'), redisUrl: redis.url });
    expect(result.written).toBe(3);
    expect(result.rejected).toEqual([
      { line: 3, reason: 'field "age": [1] is not a value of dtype FP32' },
      { line: 4, reason: 'expected a JSON object, one per line' },
      { line: 5, reason: 'not valid JSON' },
    ]);
    expect(await admin.hgetall('customer:j2')).toEqual({ age: '33.5' });
    expect(await admin.hgetall('customer:6')).toEqual({ spend_30d: '2' });
  });

  it('writes in pipelined batches and checks values against the dtype (INT32: 2.5 is rejected)', async () => {
    const result = await loadFeatures({ view: 'counts', views: VIEWS, file: files.path('counts.jsonl'), redisUrl: redis.url, batchRows: 2 });
    expect(result).toEqual({ written: 4, rejected: [{ line: 2, reason: 'field "n": 2.5 is not a value of dtype INT32' }] });
    expect(await Promise.all(['a', 'c', 'd', 'e'].map((id) => admin.hget(`counts:${id}`, 'n')))).toEqual(['1', '3', '4', '5']);
  });

  it('reports a row Redis refuses (a key of another type) and writes the others', async () => {
    await admin.set('counts:s', 'not a hash');
    const result = await loadFeatures({ view: 'counts', views: VIEWS, file: files.path('wrongtype.jsonl'), redisUrl: redis.url });
    expect(result.written).toBe(1);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].line).toBe(1);
    expect(result.rejected[0].reason).toMatch(/^Redis refused the write: WRONGTYPE/);
  });

  it("writes a Feast view in Feast's layout, which the feature service then reads", async () => {
    const result = await loadFeatures({ view: 'driver', views: VIEWS, file: files.path('drivers.csv'), redisUrl: redis.url });
    expect(result.written).toBe(2);
    expect(result.rejected).toEqual([{ line: 3, reason: 'entity id "x9" is not an INT64 value for join key "driver_id"' }]);
    // one field per feature: murmur3("driver_stats:<feature>") as 4 LE bytes, plus _ts:driver_stats
    const id = Buffer.alloc(8);
    id.writeBigInt64LE(1001n);
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const key = Buffer.concat([u32(1), u32(2), u32(9), Buffer.from('driver_id'), u32(4), u32(8), id, Buffer.from('rides')]);
    const fields = (await admin.hkeysBuffer(key)).map((f) => f.toString('hex')).sort();
    expect(fields).toEqual(
      [u32(murmur3x86_32(Buffer.from('driver_stats:conv_rate'))), u32(murmur3x86_32(Buffer.from('driver_stats:trips'))), Buffer.from('_ts:driver_stats')].map((b) => b.toString('hex')).sort(),
    );
    const service = await FeatureService.create({ views: VIEWS, bindings: { m: { input: 'x', views: ['driver'] } }, redisUrl: redis.url, log: silentLogger });
    try {
      const req = request('m', [ids('driver_id', ['1001', '1002'])]);
      expect(await service.assemble(req, service.binding('m')!, signature('x', 'FP64'))).toBe(0);
      expect(rowsOf(input(req, 'x'))).toEqual([
        [0.5, 12],
        [0.25, 3],
      ]);
    } finally {
      await service.close();
    }
  });

  it('refuses an unknown view, a file that is neither CSV nor JSON lines, and an unreachable Redis', async () => {
    await expect(loadFeatures({ view: 'nope', views: VIEWS, file: files.path('counts.jsonl'), redisUrl: redis.url })).rejects.toThrow(/unknown feature view "nope"; known: customer, counts, driver/);
    await expect(loadFeatures({ view: 'counts', views: VIEWS, file: files.path('notes.txt'), redisUrl: redis.url })).rejects.toThrow(/expected a \.jsonl, \.ndjson or \.csv file/);
    await expect(loadFeatures({ view: 'counts', views: VIEWS, file: files.path('missing.csv'), redisUrl: redis.url })).rejects.toThrow(/ENOENT/);
    await expect(loadFeatures({ view: 'counts', views: VIEWS, file: files.path('counts.jsonl'), redisUrl: 'redis://127.0.0.1:1' })).rejects.toThrow();
  });
});
