import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_FIELD, RedisStreamSink, RequestLogWriter, RequestRecord, createStreamClient } from '../../src/telemetry/request-log/index.js';
import { startRedis } from '../helpers/redis.js';
import { metricValue, recordingLogger, ticks, until } from './helpers.js';

let redis: Awaited<ReturnType<typeof startRedis>>;
let admin: Redis;

beforeEach(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
});
afterEach(async () => {
  admin.disconnect();
  await redis.stop();
});

function setup(stream: string, maxlen: number, opts: { bufferRecords?: number; closeTimeoutMs?: number } = {}) {
  const registry = new Registry();
  const sink = new RedisStreamSink({ name: 'redis_stream', client: createStreamClient(redis.url), ownsClient: true, stream, maxlen });
  const writer = new RequestLogWriter({ sinks: [sink], bufferRecords: opts.bufferRecords ?? 10_000, closeTimeoutMs: opts.closeTimeoutMs ?? 5000, log: recordingLogger(), registry });
  return { writer, registry };
}

async function writeSpread(writer: RequestLogWriter, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    writer.write(new RequestRecord(`req-${i}`, 'tabular', 'rest'));
    if (i % 20 === 19) await ticks(1);
  }
}

const ids = async (stream: string) =>
  (await admin.xrange(stream, '-', '+')).map(([, fields]) => (JSON.parse(fields[fields.indexOf(RECORD_FIELD) + 1]) as { request_id: string }).request_id);

describe('Redis Stream sink (real redis-server)', () => {
  it('adds one stream entry per record, in order, holding the JSON record', async () => {
    const { writer, registry } = setup('switchyard:requests', 1_000_000);
    await writeSpread(writer, 0, 2000);
    await writer.close();
    expect(await admin.xlen('switchyard:requests')).toBe(2000);
    expect(await ids('switchyard:requests')).toEqual(Array.from({ length: 2000 }, (_, i) => `req-${i}`));
    expect(await metricValue(registry, 'switchyard_request_log_records_total', { sink: 'redis_stream' })).toBe(2000);
  });

  it('trims the stream to about maxlen (XADD MAXLEN ~)', async () => {
    const { writer } = setup('trimmed', 200);
    await writeSpread(writer, 0, 3000);
    await writer.close();
    const len = await admin.xlen('trimmed');
    expect(len).toBeGreaterThanOrEqual(200);
    expect(len).toBeLessThan(600);
    const kept = await ids('trimmed');
    expect(kept[kept.length - 1]).toBe('req-2999');
  });

  it('Redis down: writes never throw, overflow is dropped and counted; once Redis is back the sink writes again by itself', async () => {
    const { writer, registry } = setup('down', 1_000_000, { bufferRecords: 100, closeTimeoutMs: 300 });
    await writeSpread(writer, 0, 10);
    await until(async () => (await admin.xlen('down')) === 10, 5000, 'first records');
    const port = redis.port;
    await redis.stop();
    await expect(writeSpread(writer, 10, 500)).resolves.toBeUndefined();
    await until(async () => (await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'redis_stream', reason: 'buffer_full' })) >= 300, 5000, 'drops');
    redis = await startRedis({ port }); // a fresh, empty server where the client reconnects
    admin.disconnect();
    admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    await until(async () => (await admin.xlen('down')) > 0, 10_000, 'reconnect');
    await writeSpread(writer, 510, 50);
    await writer.close();
    const kept = await ids('down');
    expect(kept.slice(-50)).toEqual(Array.from({ length: 50 }, (_, i) => `req-${510 + i}`));
    const stored = await metricValue(registry, 'switchyard_request_log_records_total', { sink: 'redis_stream' });
    const dropped = await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'redis_stream' });
    // every record is either stored or counted as dropped
    expect(stored + dropped).toBe(560);
    expect(stored).toBe(10 + kept.length);
  });

  it('a Redis that hangs (SIGSTOP) never blocks writes: its records are dropped and counted, close() is bounded', async () => {
    const { writer, registry } = setup('hung', 1_000_000, { bufferRecords: 50, closeTimeoutMs: 300 });
    process.kill(redis.pid, 'SIGSTOP');
    try {
      await expect(writeSpread(writer, 0, 200)).resolves.toBeUndefined();
      await writer.close();
      expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'redis_stream' })).toBe(200);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
  });

  it('reconnects by itself after its connection is dropped', async () => {
    const { writer, registry } = setup('reconnect', 1_000_000);
    await writeSpread(writer, 0, 100);
    await until(async () => (await admin.xlen('reconnect')) === 100, 5000, 'first records');
    await admin.client('KILL', 'SKIPME', 'yes', 'TYPE', 'normal');
    await writeSpread(writer, 100, 100);
    await writer.close();
    expect(await ids('reconnect')).toEqual(Array.from({ length: 200 }, (_, i) => `req-${i}`));
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'redis_stream' })).toBe(0);
  });
});
