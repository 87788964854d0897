/**
 * The FeatureStore contract (src/features/stores/store.ts), run against both implementations
 * from the same source files: memory (each view's `file` loaded at startup) and Redis (the
 * files written into a real redis-server by `switchyard features load`'s loadFeatures). A
 * request must get the same tensor and the same defaulted count from either.
 * What only one implementation does (Redis outages, timeouts, the local cache) is tested
 * beside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureBindingConfig, FeatureViewConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/core/index.js';
import { FeatureService, loadFeatures } from '../../src/features/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { ids, input, request, rowsOf, signature, tempFiles } from './helpers.js';

const files = tempFiles({
  'customer.jsonl': [
    '{"customer_id": "c1", "age": 40, "tenure_days": 100, "spend_30d": 12.5}',
    '{"customer_id": "c2", "age": 25, "spend_30d": "abc"}',
    '{"customer_id": "c:3", "age": 61, "tenure_days": 7, "spend_30d": 0.25, "unused": true}',
    '{"customer_id": "ü", "age": -1, "tenure_days": 1e3, "spend_30d": "7.5"}',
  ].join('\n'),
  'merchant.csv': ['merchant_id,risk,volume', 'm1,0.5,1000', '"m,2",0.75,', 'm3,,20'].join('\n'),
  'account.jsonl': ['{"account": "a1", "big": "9007199254740993", "small": -4}', '{"account": "a2", "big": 12}'].join('\n'),
});

const VIEWS: Record<string, FeatureViewConfig> = {
  customer: { entity: 'customer_id', key: 'cust:{id}', fields: ['age', 'tenure_days', 'spend_30d'], dtype: 'FP32', defaults: { age: 35 }, file: 'customer.jsonl', ttl_ms: 0 },
  merchant: { entity: 'merchant_id', key: 'merch:{id}', fields: ['volume', 'risk'], dtype: 'FP64', defaults: { risk: -1 }, file: 'merchant.csv', ttl_ms: 0 },
  account: { entity: 'account', key: 'acct:{id}', fields: ['big', 'small'], dtype: 'INT64', file: 'account.jsonl', ttl_ms: 0 },
};
const BINDINGS: Record<string, FeatureBindingConfig> = {
  tabular: { input: 'x', views: ['customer'] },
  combined: { input: 'x', views: ['merchant', 'customer'] },
  ledger: { input: 'x', views: ['account'] },
};

let redis: TestRedis;
const services: Record<'memory' | 'redis', FeatureService | null> = { memory: null, redis: null };
const rejectedByLoad: Record<string, unknown> = {};

beforeAll(async () => {
  redis = await startRedis();
  const absolute = Object.fromEntries(Object.entries(VIEWS).map(([name, v]) => [name, { ...v, file: files.path(v.file!) }]));
  for (const view of Object.keys(VIEWS)) {
    const r = await loadFeatures({ view, views: absolute, file: files.path(VIEWS[view].file!), redisUrl: redis.url });
    rejectedByLoad[view] = r.rejected;
  }
  services.memory = await FeatureService.create({ views: VIEWS, bindings: BINDINGS, redisUrl: null, log: silentLogger, baseDir: files.dir });
  services.redis = await FeatureService.create({ views: VIEWS, bindings: BINDINGS, redisUrl: redis.url, log: silentLogger, baseDir: files.dir });
});
afterAll(async () => {
  await Promise.all([services.memory?.close(), services.redis?.close()]);
  await redis.stop();
  files.remove();
});

async function assemble(kind: 'memory' | 'redis', model: string, inputs: Parameters<typeof request>[1], sig = signature()) {
  const s = services[kind]!;
  const req = request(model, inputs);
  const defaulted = await s.assemble(req, s.binding(model)!, sig);
  return { defaulted, x: input(req, 'x') };
}

describe.each(['memory', 'redis'] as const)('FeatureStore contract: %s', (kind) => {
  it('fills rows in the order of the ids, fields in the order of the view, parsed to its dtype', async () => {
    const { x, defaulted } = await assemble(kind, 'tabular', [ids('customer_id', ['c:3', 'c1', 'ü'])]);
    expect(x.datatype).toBe('FP32');
    expect(rowsOf(x)).toEqual([
      [61, 7, 0.25],
      [40, 100, 12.5],
      [-1, 1000, 7.5],
    ]);
    expect(defaulted).toBe(0);
  });

  it('refuses a row with a value that does not parse (line 2: "abc" for FP32), so its entity is missing; a missing field takes its default', async () => {
    // the loader says which line it refused and why; the memory store logs the same line at startup
    expect(rejectedByLoad.customer).toEqual([{ line: 2, reason: 'field "spend_30d": "abc" is not a value of dtype FP32' }]);
    const { x, defaulted } = await assemble(kind, 'tabular', [ids('customer_id', ['c2', 'nobody'])]);
    expect(rowsOf(x)).toEqual([
      [35, 0, 0],
      [35, 0, 0],
    ]);
    expect(defaulted).toBe(6);
    const m = await assemble(kind, 'combined', [ids('merchant_id', ['m1']), ids('customer_id', ['c1'])]);
    expect(rowsOf(m.x)).toEqual([[1000, 0.5, 40, 100, 12.5]]);
  });

  it('reads CSV (a quoted id with a comma, an empty cell as missing) and concatenates views in binding order', async () => {
    const { x, defaulted } = await assemble(kind, 'combined', [ids('merchant_id', ['m,2', 'm3']), ids('customer_id', ['c1', 'c1'])]);
    expect(rowsOf(x)).toEqual([
      [0, 0.75, 40, 100, 12.5],
      [20, -1, 40, 100, 12.5],
    ]);
    expect(defaulted).toBe(2);
  });

  it('keeps 64-bit integers exact', async () => {
    const { x } = await assemble(kind, 'ledger', [ids('account', ['a1', 'a2'])], signature('x', 'INT64'));
    expect(Array.from(x.data as BigInt64Array)).toEqual([9007199254740993n, -4n, 12n, 0n]);
  });
});
