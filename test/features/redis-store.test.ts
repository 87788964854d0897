import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureBindingConfig, FeatureViewConfig } from '../../src/config/index.js';
import { FeatureService } from '../../src/features/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { FakeClock, MetricsProbe, ids, input, recordingLogger, request, rowsOf, signature } from './helpers.js';
import { WriteCounter, commandCalls, sleep, until } from './redis-helpers.js';

let redis: TestRedis;
let admin: Redis;
let probe: MetricsProbe;
const services: FeatureService[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
  probe = new MetricsProbe();
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
});
afterAll(async () => {
  probe.close();
  admin.disconnect();
  await redis.stop();
});

async function service(views: Record<string, FeatureViewConfig>, bindings: Record<string, FeatureBindingConfig>, extra: Partial<Parameters<typeof FeatureService.create>[0]> = {}) {
  const s = await FeatureService.create({ views, bindings, redisUrl: redis.url, log: recordingLogger(), ...extra });
  services.push(s);
  return s;
}

async function assemble(s: FeatureService, model: string, inputs: Parameters<typeof request>[1], sig = signature()) {
  const req = request(model, inputs);
  const defaulted = await s.assemble(req, s.binding(model)!, sig);
  return { req, defaulted, x: input(req, 'x') };
}

describe('features from Redis hashes (real redis-server)', () => {
  it('fills x with the fields of known entities, parsed to the view dtype, in field order', async () => {
    await admin.hset('cust:c1', { age: '40', tenure_days: '100', spend_30d: '12.5' });
    await admin.hset('cust:c2', { spend_30d: '7.25', age: '22', tenure_days: '3' });
    const s = await service({ cust: { entity: 'customer_id', key: 'cust:{id}', fields: ['age', 'tenure_days', 'spend_30d'], dtype: 'FP32', ttl_ms: 0 } }, { m: { input: 'x', views: ['cust'] } });
    const { x, defaulted } = await assemble(s, 'm', [ids('customer_id', ['c2', 'c1'])]);
    expect(x.datatype).toBe('FP32');
    expect(rowsOf(x)).toEqual([
      [22, 3, 7.25],
      [40, 100, 12.5],
    ]);
    expect(defaulted).toBe(0);
  });

  it('parses INT64 exactly and FP64 at full precision', async () => {
    await admin.hset('acct:a1', { big: '9007199254740993', small: '-4' });
    await admin.hset('ratio:a1', { r: '0.1' });
    const s = await service(
      {
        acct: { entity: 'account', key: 'acct:{id}', fields: ['big', 'small'], dtype: 'INT64', ttl_ms: 0 },
        ratio: { entity: 'account', key: 'ratio:{id}', fields: ['r'], dtype: 'FP64', ttl_ms: 0 },
      },
      { ints: { input: 'x', views: ['acct'] }, floats: { input: 'x', views: ['ratio'] } },
    );
    const ints = await assemble(s, 'ints', [ids('account', ['a1'])], signature('x', 'INT64'));
    expect(Array.from(ints.x.data as BigInt64Array)).toEqual([9007199254740993n, -4n]);
    const floats = await assemble(s, 'floats', [ids('account', ['a1'])], signature('x', 'FP64'));
    expect(Array.from(floats.x.data as Float64Array)).toEqual([0.1]);
  });

  it('uses defaults for missing entities, missing fields and unparsable values, counted by reason', async () => {
    await admin.hset('cm:c1', { a: '1', b: 'n/a' });
    const s = await service({ cm: { entity: 'id', key: 'cm:{id}', fields: ['a', 'b', 'c'], dtype: 'FP32', defaults: { b: 9, c: 7 }, ttl_ms: 0 } }, { m: { input: 'x', views: ['cm'] } });
    const { x, defaulted } = await assemble(s, 'm', [ids('id', ['c1', 'ghost'])]);
    expect(rowsOf(x)).toEqual([
      [1, 9, 7],
      [0, 9, 7],
    ]);
    expect(defaulted).toBe(5);
    expect(await probe.defaults('cm')).toEqual({ unparsable: 1, missing_field: 1, missing_entity: 3 });
  });

  it("sends all of a request's reads in one round trip, and concurrent requests share it", async () => {
    for (let i = 0; i < 4; i++) {
      await admin.hset(`rt:a:${i}`, { f: String(i) });
      await admin.hset(`rt:b:${i}`, { g: String(10 + i) });
    }
    const counter = new WriteCounter();
    const s = await service(
      {
        rta: { entity: 'id', key: 'rt:a:{id}', fields: ['f'], ttl_ms: 0 },
        rtb: { entity: 'id', key: 'rt:b:{id}', fields: ['g'], ttl_ms: 0 },
      },
      { m: { input: 'x', views: ['rta', 'rtb'] } },
      { createClient: counter.create },
    );
    const hmgets = await commandCalls(admin, 'hmget');
    let writes = counter.writes;
    const one = await assemble(s, 'm', [ids('id', ['0', '1', '2', '3'])]);
    expect(rowsOf(one.x)).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
      [3, 13],
    ]);
    expect(await commandCalls(admin, 'hmget')).toBe(hmgets + 8); // 4 entities × 2 views
    expect(counter.writes - writes).toBe(1);

    writes = counter.writes;
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => assemble(s, 'm', [ids('id', [String(i % 4)])])));
    expect(many.map((r) => rowsOf(r.x)[0][1])).toEqual(Array.from({ length: 20 }, (_, i) => 10 + (i % 4)));
    expect(await commandCalls(admin, 'hmget')).toBe(hmgets + 8 + 40);
    expect(counter.writes - writes).toBe(1);
  });

  it('answers from the local cache until ttl_ms passes, then reads Redis again', async () => {
    await admin.hset('cc:c1', { v: '1' });
    const clock = new FakeClock();
    const counter = new WriteCounter();
    const s = await service({ cc: { entity: 'id', key: 'cc:{id}', fields: ['v'], ttl_ms: 1000 } }, { m: { input: 'x', views: ['cc'] } }, { clock, createClient: counter.create });
    const hits = () => probe.value('switchyard_feature_cache_hits_total', { view: 'cc' });
    const misses = () => probe.value('switchyard_feature_cache_misses_total', { view: 'cc' });

    expect(rowsOf((await assemble(s, 'm', [ids('id', ['c1'])])).x)).toEqual([[1]]);
    expect([await hits(), await misses()]).toEqual([0, 1]);
    await admin.hset('cc:c1', { v: '2' });
    const writes = counter.writes;
    clock.advance(999);
    expect(rowsOf((await assemble(s, 'm', [ids('id', ['c1'])])).x)).toEqual([[1]]); // cached
    expect(counter.writes).toBe(writes); // no round trip
    expect([await hits(), await misses()]).toEqual([1, 1]);
    clock.advance(2);
    expect(rowsOf((await assemble(s, 'm', [ids('id', ['c1'])])).x)).toEqual([[2]]); // expired: read again
    expect([await hits(), await misses()]).toEqual([1, 2]);
  });

  it('uses the defaults (reason timeout) when Redis does not answer in time, and real values once it does', async () => {
    await admin.hset('to:c1', { v: '5' });
    const s = await service({ to: { entity: 'id', key: 'to:{id}', fields: ['v'], defaults: { v: -1 }, ttl_ms: 0 } }, { m: { input: 'x', views: ['to'] } }, { lookupTimeoutMs: 100 });
    process.kill(redis.pid, 'SIGSTOP');
    try {
      const { x, defaulted } = await assemble(s, 'm', [ids('id', ['c1'])]);
      expect(rowsOf(x)).toEqual([[-1]]);
      expect(defaulted).toBe(1);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    expect(await probe.defaults('to')).toEqual({ timeout: 1 });
    await until('real values after the pause', async () => rowsOf((await assemble(s, 'm', [ids('id', ['c1'])])).x)[0][0] === 5);
  });
});

describe('Redis outage', () => {
  it('never fails a request while Redis is down, counts the defaults, and reads real values again once it is back', async () => {
    await admin.hset('out:c1', { v: '3' });
    const log = recordingLogger();
    const s = await service({ out: { entity: 'id', key: 'out:{id}', fields: ['v'], defaults: { v: -1 }, ttl_ms: 0 } }, { m: { input: 'x', views: ['out'] } }, { lookupTimeoutMs: 200, log });

    // a steady load; Redis is stopped in the middle of it
    const results: PromiseSettledResult<number>[] = [];
    const values: number[] = [];
    let stopped = false;
    for (let i = 0; i < 60; i++) {
      if (i === 20) {
        await redis.stop();
        stopped = true;
      }
      const req = request('m', [ids('id', ['c1'])]);
      const [r] = await Promise.allSettled([s.assemble(req, s.binding('m')!, signature())]);
      results.push(r);
      if (r.status === 'fulfilled') values.push(rowsOf(input(req, 'x'))[0][0]);
      await sleep(5);
    }
    expect(stopped).toBe(true);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(values.slice(0, 20).every((v) => v === 3)).toBe(true);
    expect(values.slice(20).every((v) => v === -1)).toBe(true);
    const counted = await probe.defaults('out');
    expect((counted.error ?? 0) + (counted.timeout ?? 0)).toBe(40);
    // while disconnected, reads fail at once (reason error) rather than wait for the timeout
    expect(counted.error ?? 0).toBeGreaterThan(30);
    expect(log.lines.filter((l) => l.level === 'warn').length).toBeLessThanOrEqual(2); // once per outage, not per request

    // Redis comes back on the same port (empty: persistence is off) and the data is written again
    redis = await startRedis({ port: redis.port });
    admin.disconnect();
    admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    await admin.hset('out:c1', { v: '4' });
    await until('lookups to resume without a restart', async () => {
      const req = request('m', [ids('id', ['c1'])]);
      await s.assemble(req, s.binding('m')!, signature());
      return rowsOf(input(req, 'x'))[0][0] === 4;
    });
    expect(log.lines.some((l) => l.msg === 'feature store: Redis reachable again')).toBe(true);
  });

  it('starts with Redis down and picks it up when it appears', async () => {
    const port = redis.port;
    await redis.stop();
    const s = await service({ late: { entity: 'id', key: 'late:{id}', fields: ['v'], ttl_ms: 0 } }, { m: { input: 'x', views: ['late'] } }, { connectWaitMs: 100 });
    const first = await assemble(s, 'm', [ids('id', ['c1'])]);
    expect(first.defaulted).toBe(1);
    redis = await startRedis({ port });
    admin.disconnect();
    admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    await admin.hset('late:c1', { v: '8' });
    await until('lookups after Redis appears', async () => rowsOf((await assemble(s, 'm', [ids('id', ['c1'])])).x)[0][0] === 8);
  });
});
