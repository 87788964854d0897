import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RecordRing, RequestLogWriter, RequestRecord } from '../../src/telemetry/request-log/index.js';
import { FailingSink, MemorySink, StalledSink, metricValue, recordingLogger, ticks, until } from './helpers.js';

function record(i: number): RequestRecord {
  const r = new RequestRecord(`req-${i}`, 'tabular', 'rest');
  r.version = '1';
  return r;
}

function writer(sinks: ConstructorParameters<typeof RequestLogWriter>[0]['sinks'], extra: Partial<ConstructorParameters<typeof RequestLogWriter>[0]> = {}) {
  const registry = new Registry();
  const log = recordingLogger();
  const w = new RequestLogWriter({ sinks, bufferRecords: 1000, closeTimeoutMs: 2000, log, registry, ...extra });
  return { w, registry, log };
}

/** Writes `n` records `perTick` at a time, yielding to the event loop between groups (as requests arrive). */
async function writeSpread(w: RequestLogWriter, n: number, perTick: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    w.write(record(i));
    if ((i + 1) % perTick === 0) await ticks(1);
  }
}

describe('RecordRing', () => {
  it('is a bounded FIFO that refuses when full', () => {
    const ring = new RecordRing(3);
    const rs = [0, 1, 2, 3].map(record);
    expect(ring.push(rs[0]) && ring.push(rs[1]) && ring.push(rs[2])).toBe(true);
    expect(ring.push(rs[3])).toBe(false);
    expect(ring.shift()).toBe(rs[0]);
    expect(ring.push(rs[3])).toBe(true);
    expect([ring.shift(), ring.shift(), ring.shift(), ring.shift()]).toEqual([rs[1], rs[2], rs[3], null]);
    expect(ring.size).toBe(0);
  });
});

describe('RequestLogWriter', () => {
  it('with a flush interval, waits that long for a partial batch and writes a full one at once', async () => {
    const sink = new MemorySink('a');
    const { w } = writer([sink], { flushIntervalMs: 200, batchRecords: 100 });
    for (let i = 0; i < 10; i++) w.write(record(i));
    await ticks(5);
    expect(sink.writes).toBe(0);
    await until(() => sink.lines.length === 10, 2000, 'the partial batch after the interval');
    expect(sink.writes).toBe(1);
    // a full batch does not wait for the interval
    for (let i = 10; i < 110; i++) w.write(record(i));
    await ticks(5);
    expect(sink.lines).toHaveLength(110);
    expect(sink.writes).toBe(2);
    // close() writes what is left
    w.write(record(110));
    await w.close();
    expect(sink.records().map((r) => r.request_id)).toEqual(Array.from({ length: 111 }, (_, i) => `req-${i}`));
  });

  it('delivers every record, in order, to every sink once close() resolves', async () => {
    const a = new MemorySink('a');
    const b = new MemorySink('b');
    const { w, registry } = writer([a, b]);
    await writeSpread(w, 5000, 50);
    await w.close();
    for (const sink of [a, b]) {
      expect(sink.lines).toHaveLength(5000);
      expect(sink.records().map((r) => r.request_id)).toEqual(Array.from({ length: 5000 }, (_, i) => `req-${i}`));
      expect(sink.closed).toBe(true);
    }
    expect(await metricValue(registry, 'switchyard_request_log_records_total', { sink: 'a' })).toBe(5000);
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total')).toBe(0);
  });

  it('write() returns before any sink is called and never throws, whatever the sinks do', async () => {
    const throwing = new FailingSink('throwing', 'throw');
    const rejecting = new FailingSink('rejecting', 'reject');
    const stalled = new StalledSink();
    const { w } = writer([throwing, rejecting, stalled]);
    for (let i = 0; i < 10; i++) expect(() => w.write(record(i))).not.toThrow();
    // nothing was handed to a sink during write(): flushing happens on a later turn
    expect(throwing.calls + rejecting.calls + stalled.calls).toBe(0);
    await ticks(3);
    expect(throwing.calls).toBeGreaterThan(0);
    expect(rejecting.calls).toBeGreaterThan(0);
    expect(stalled.calls).toBe(1);
    stalled.release();
    await w.close();
  });

  it('counts the records of a failing sink as dropped (sink_error) while the other sinks get all of them', async () => {
    const good = new MemorySink('good');
    const throwing = new FailingSink('throwing', 'throw');
    const rejecting = new FailingSink('rejecting', 'reject');
    const { w, registry, log } = writer([good, throwing, rejecting], { dropLogIntervalMs: 20 });
    await writeSpread(w, 1000, 25);
    await until(async () => (await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'rejecting' })) === 1000, 5000, 'rejecting sink drops');
    await w.close();
    expect(good.lines).toHaveLength(1000);
    for (const sink of ['throwing', 'rejecting']) {
      expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink, reason: 'sink_error' })).toBe(1000);
      expect(await metricValue(registry, 'switchyard_request_log_records_total', { sink })).toBe(0);
      expect(await metricValue(registry, 'switchyard_request_log_sink_errors_total', { sink })).toBeGreaterThan(0);
    }
    // the drops are logged with their count and the error, rate-limited (not one line per record or batch)
    const lines = log.lines.filter((l) => l.msg === 'request log records dropped' && l.fields.sink === 'throwing');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(40);
    expect(lines.reduce((n, l) => n + (l.fields.dropped as number), 0)).toBe(1000);
    expect(String((lines[0].fields.err as Error).message)).toContain('disk on fire');
  });

  it('a stalled sink fills only its own buffer: its overflow is dropped and counted, the other sink gets everything', async () => {
    const good = new MemorySink('good');
    const stalled = new StalledSink('stalled');
    const { w, registry, log } = writer([good, stalled], { bufferRecords: 100, batchRecords: 10, dropLogIntervalMs: 20, closeTimeoutMs: 100 });
    await writeSpread(w, 1000, 10);
    await until(() => good.lines.length === 1000, 5000, 'good sink');
    // one batch of 10 is stuck in the stalled sink, 100 wait in its buffer, the rest were dropped
    expect(stalled.calls).toBe(1);
    expect(w.pending('stalled')).toBe(110);
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'stalled', reason: 'buffer_full' })).toBe(890);
    expect(await metricValue(registry, 'switchyard_request_log_buffered_records', { sink: 'stalled' })).toBe(110);
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'good' })).toBe(0);
    await until(() => log.lines.some((l) => l.msg === 'request log records dropped' && l.fields.sink === 'stalled'), 2000, 'drop log line');
    stalled.release();
    await w.close();
  });

  it('a sink that recovers gets what was buffered while it stalled', async () => {
    const stalled = new StalledSink('slow');
    const { w, registry } = writer([stalled], { bufferRecords: 500, batchRecords: 50 });
    await writeSpread(w, 300, 30);
    expect(stalled.calls).toBe(1);
    stalled.release();
    await until(() => w.pending('slow') === 0 || stalled.calls > 1, 2000, 'next batch');
    // release every later batch as it comes
    const timer = setInterval(() => stalled.release(), 5);
    await w.close();
    clearInterval(timer);
    expect(await metricValue(registry, 'switchyard_request_log_records_total', { sink: 'slow' })).toBe(300);
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'slow' })).toBe(0);
  });

  it('close() gives up on a stalled sink after the close timeout and counts what it held as dropped (shutdown)', async () => {
    const good = new MemorySink('good');
    const stalled = new StalledSink('stalled');
    const { w, registry } = writer([good, stalled], { closeTimeoutMs: 100, batchRecords: 10 });
    await writeSpread(w, 50, 10);
    await w.close();
    expect(good.lines).toHaveLength(50);
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'stalled', reason: 'shutdown' })).toBe(50);
    // records written after close are counted, not buffered
    w.write(record(99));
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'good', reason: 'shutdown' })).toBe(1);
    expect(good.lines).toHaveLength(50);
  });

  it('a burst larger than the buffer within one turn drops the excess and counts it', async () => {
    const sink = new MemorySink('m');
    const { w, registry } = writer([sink], { bufferRecords: 100 });
    for (let i = 0; i < 150; i++) w.write(record(i));
    await w.close();
    expect(sink.lines).toHaveLength(100);
    expect(await metricValue(registry, 'switchyard_request_log_dropped_total', { sink: 'm', reason: 'buffer_full' })).toBe(50);
  });

  it('with no sink, records are not kept', async () => {
    const { w } = writer([]);
    expect(w.enabled).toBe(false);
    w.write(record(1));
    await w.close();
  });
});
