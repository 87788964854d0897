import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureViewConfig } from '../../src/config/index.js';
import { GatewayError } from '../../src/core/index.js';
import { FeatureService, murmur3x86_32 } from '../../src/features/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { MetricsProbe, ids, input, recordingLogger, request, rowsOf, signature } from './helpers.js';

/*
 * Feast's Redis online-store layout, written byte for byte here (independently of the
 * codec under test): key = entity key serialization v3 + project; field = murmur3 of
 * "<feature_view>:<feature>" as 4 LE bytes; value = serialized feast.types.Value;
 * `_ts:<feature_view>` = serialized google.protobuf.Timestamp.
 */
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const str = (type: number, bytes: Buffer) => Buffer.concat([u32(type), u32(bytes.length), bytes]);
const varint = (n: bigint) => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
};
const double = (d: number) => {
  const b = Buffer.alloc(9);
  b[0] = 0x29; // field 5, wire type 1 (64-bit)
  b.writeDoubleLE(d, 1);
  return b;
};
const float = (f: number) => {
  const b = Buffer.alloc(5);
  b[0] = 0x35; // field 6, wire type 5 (32-bit)
  b.writeFloatLE(f, 1);
  return b;
};
const int64 = (n: bigint) => Buffer.concat([Buffer.from([0x20]), varint(n)]); // field 4, varint
const string = (s: string) => Buffer.concat([Buffer.from([0x12]), varint(BigInt(utf8(s).length)), utf8(s)]); // field 2
const boolean = (v: boolean) => Buffer.from([0x38, v ? 1 : 0]); // field 7
const doubleList = Buffer.from([0x7a, 0x09, 0x0a, 0x07, 0, 0, 0, 0, 0, 0, 0]); // field 15 (DoubleList): unsupported
const timestamp = (ms: number) => Buffer.concat([Buffer.from([0x08]), varint(BigInt(Math.floor(ms / 1000)))]);
const field = (fv: string, name: string) => u32(murmur3x86_32(utf8(`${fv}:${name}`), 0));
const tsField = (fv: string) => utf8(`_ts:${fv}`);

/** key of one STRING join key */
const stringKey = (joinKey: string, id: string, project: string) => Buffer.concat([u32(1), str(2, utf8(joinKey)), str(2, utf8(id)), utf8(project)]);

let redis: TestRedis;
let admin: Redis;
let probe: MetricsProbe;
const services: FeatureService[] = [];
beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
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

async function service(views: Record<string, FeatureViewConfig>, model = 'm', viewNames = Object.keys(views)) {
  const s = await FeatureService.create({ views, bindings: { [model]: { input: 'x', views: viewNames } }, redisUrl: redis.url, log: recordingLogger() });
  services.push(s);
  return s;
}

describe("Feast views (Feast's Redis layout, real redis-server)", () => {
  it('reads double, float, int64, bool and string values into the tensor, in field order', async () => {
    const fv = 'customer_stats';
    await admin.hset(stringKey('customer_id', 'c1', 'shop'), new Map<Buffer, Buffer>([
      [field(fv, 'spend'), double(12.5)],
      [field(fv, 'rate'), float(0.25)],
      [field(fv, 'orders'), int64(42n)],
      [field(fv, 'premium'), boolean(true)],
      [field(fv, 'score'), string('7.5')],
      [tsField(fv), timestamp(Date.now())],
    ]));
    const s = await service({
      fc: { format: 'feast', project: 'shop', feature_view: fv, join_keys: ['customer_id'], fields: ['score', 'orders', 'spend', 'premium', 'rate'], dtype: 'FP64', ttl_ms: 0 },
    });
    const req = request('m', [ids('customer_id', ['c1'])]);
    expect(await s.assemble(req, s.binding('m')!, signature('x', 'FP64'))).toBe(0);
    expect(rowsOf(input(req, 'x'))).toEqual([[7.5, 42, 12.5, 1, 0.25]]);
  });

  it('defaults missing entities, missing fields and unsupported or malformed values, by reason', async () => {
    const fv = 'fv_missing';
    await admin.hset(stringKey('customer_id', 'c1', 'shop'), new Map<Buffer, Buffer>([
      [field(fv, 'a'), double(1)],
      [field(fv, 'b'), doubleList],
      [field(fv, 'c'), Buffer.from([0x29, 0x01])], // double field cut short
      [tsField(fv), timestamp(Date.now())],
    ]));
    const s = await service({
      fm: { format: 'feast', project: 'shop', feature_view: fv, join_keys: ['customer_id'], fields: ['a', 'b', 'c', 'd'], defaults: { d: 4 }, ttl_ms: 0 },
    });
    const req = request('m', [ids('customer_id', ['c1', 'c404'])]);
    expect(await s.assemble(req, s.binding('m')!, signature())).toBe(7);
    expect(rowsOf(input(req, 'x'))).toEqual([
      [1, 0, 0, 4],
      [0, 0, 0, 4],
    ]);
    expect(await probe.defaults('fm')).toEqual({ unparsable: 2, missing_field: 1, missing_entity: 4 });
  });

  it('treats values older than max_age_s as missing (reason stale)', async () => {
    const fv = 'fv_age';
    const day = 86_400_000;
    await admin.hset(stringKey('customer_id', 'fresh', 'shop'), new Map<Buffer, Buffer>([[field(fv, 'v'), double(1)], [tsField(fv), timestamp(Date.now() - 60_000)]]));
    await admin.hset(stringKey('customer_id', 'old', 'shop'), new Map<Buffer, Buffer>([[field(fv, 'v'), double(2)], [tsField(fv), timestamp(Date.now() - 2 * day)]]));
    const s = await service({
      fa: { format: 'feast', project: 'shop', feature_view: fv, join_keys: ['customer_id'], fields: ['v'], defaults: { v: -1 }, max_age_s: 86_400 },
    });
    const req = request('m', [ids('customer_id', ['fresh', 'old'])]);
    expect(await s.assemble(req, s.binding('m')!, signature())).toBe(1);
    expect(rowsOf(input(req, 'x'))).toEqual([[1], [-1]]);
    expect(await probe.defaults('fa')).toEqual({ stale: 1 });
  });

  it('serializes an INT64 join key as int64le, and rejects an id that is not an integer with a 400', async () => {
    const fv = 'driver_hourly_stats';
    const id = Buffer.alloc(8);
    id.writeBigInt64LE(1001n);
    const key = Buffer.concat([u32(1), str(2, utf8('driver_id')), str(4, id), utf8('rides')]);
    await admin.hset(key, new Map<Buffer, Buffer>([[field(fv, 'conv_rate'), float(0.5)], [tsField(fv), timestamp(Date.now())]]));
    const s = await service({ drv: { format: 'feast', project: 'rides', feature_view: fv, join_keys: { driver_id: 'INT64' }, fields: ['conv_rate'] } });
    const req = request('m', [ids('driver_id', ['1001'])]);
    expect(await s.assemble(req, s.binding('m')!, signature())).toBe(0);
    expect(rowsOf(input(req, 'x'))).toEqual([[0.5]]);
    const err = await s.assemble(request('m', [ids('driver_id', ['abc'])]), s.binding('m')!, signature()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).httpStatus).toBe(400);
    expect((err as GatewayError).message).toMatch(/"abc" \(row 0\) of feature view "drv" is not an INT64 value for join key "driver_id"/);
  });

  it('reads a view with several join keys (sorted by name) from one input per join key', async () => {
    const fv = 'trip_stats';
    const zone = Buffer.alloc(4);
    zone.writeInt32LE(7);
    // join keys sorted: city (STRING) before zone (INT32)
    const key = Buffer.concat([u32(2), str(2, utf8('city')), str(2, utf8('zone')), str(2, utf8('paris')), str(3, zone), utf8('rides')]);
    await admin.hset(key, new Map<Buffer, Buffer>([[field(fv, 'trips'), int64(12n)], [tsField(fv), timestamp(Date.now())]]));
    const s = await service({ trips: { format: 'feast', project: 'rides', feature_view: fv, join_keys: { zone: 'INT32', city: 'STRING' }, fields: ['trips'], dtype: 'INT64' } });
    const req = request('m', [ids('zone', ['7', '8']), ids('city', ['paris', 'paris'])]);
    expect(await s.assemble(req, s.binding('m')!, signature('x', 'INT64'))).toBe(1);
    expect(Array.from(input(req, 'x').data as BigInt64Array)).toEqual([12n, 0n]);
    expect(req.inputs.map((t) => t.name)).toEqual(['x']);
  });

  it('refuses with a 400 a join key value holding U+001F, which would read another entity', async () => {
    const fv = 'pair_stats';
    // the entity (a="x", b="y"): what a="x\u001fy", b="z" used to read, split on the separator
    const key = Buffer.concat([u32(2), str(2, utf8('a')), str(2, utf8('b')), str(2, utf8('x')), str(2, utf8('y')), utf8('p')]);
    await admin.hset(key, new Map<Buffer, Buffer>([[field(fv, 'v'), double(9)], [tsField(fv), timestamp(Date.now())]]));
    const s = await service({ pairs: { format: 'feast', project: 'p', feature_view: fv, join_keys: ['a', 'b'], fields: ['v'], ttl_ms: 0 } });
    const ok = request('m', [ids('a', ['x']), ids('b', ['y'])]);
    expect(await s.assemble(ok, s.binding('m')!, signature())).toBe(0);
    expect(rowsOf(input(ok, 'x'))).toEqual([[9]]);
    const err = await s.assemble(request('m', [ids('a', ['x\u001fy']), ids('b', ['z'])]), s.binding('m')!, signature()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).httpStatus).toBe(400);
    expect((err as GatewayError).message).toMatch(/of feature view "pairs" is not one value per join key \(a, b\) without the character U\+001F/);
  });
});
