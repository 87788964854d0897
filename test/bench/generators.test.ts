/**
 * The bench's readers of wrk's and h2load's output, on outputs recorded from real runs on the
 * bench machine (test/bench/fixtures/): wrk 4.1 with the bench's Lua script against
 * bench/servers/hello-uws.ts and switchyard, h2load 1.52 against bench/servers/grpc-echo.ts
 * and switchyard's gRPC door.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { grpcFrame, h2loadResult, h2loadShape, parseH2loadLog, parseH2loadOutput } from '../../bench/lib/h2load.js';
import { percentile } from '../../bench/lib/load.js';
import { luaString, parseWrkOutput, wrkResult, wrkScript, wrkThreads } from '../../bench/lib/wrk.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('wrk', () => {
  it("reads the Lua done() line of a run, latency in µs, and gives req/s of the answers below 400", () => {
    const s = parseWrkOutput(fixture('wrk-hello-uws-c64.txt'));
    expect(s).toEqual({
      durationUs: 3004627,
      requests: 378969,
      bytes: 121649049,
      errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 },
      latencyUs: { min: 21, mean: 597.475, stdev: 626.203, max: 6929, p50: 388, p90: 827, p99: 3699, p999: 5106 },
    });
    const r = wrkResult(s, 64);
    expect(r.reqPerSec).toBeCloseTo(378969 / 3.004627, 3);
    expect(r.latencyMs).toEqual({ p50: 0.388, p90: 0.827, p99: 3.699, max: 6.929, mean: 0.597475 });
    expect([r.ok2xx, r.non2xx, r.errors, r.timeouts]).toEqual([378969, 0, 0, 0]);
  });

  it('agrees with the percentiles wrk --latency prints beside it', () => {
    // the text table rounds: "50% 388.00us", "99% 3.70ms"
    const text = fixture('wrk-hello-uws-c64.txt');
    expect(text).toMatch(/50%\s+388\.00us/);
    expect(parseWrkOutput(text).latencyUs.p50).toBe(388);
    const c1 = parseWrkOutput(fixture('wrk-hello-uws-c1.txt'));
    expect(c1.latencyUs.p50).toBe(52);
    expect(wrkResult(c1, 1).latencyMs.p99).toBeCloseTo(0.076, 6);
  });

  it('counts "Non-2xx or 3xx responses" as refused, not as successes', () => {
    const text = fixture('wrk-hello-uws-404.txt');
    expect(text).toContain('Non-2xx or 3xx responses: 109710');
    const r = wrkResult(parseWrkOutput(text), 4);
    expect(r.ok2xx).toBe(0);
    expect(r.non2xx).toBe(109710);
    expect(r.reqPerSec).toBe(0);
  });

  it('counts socket errors (the server went away mid-run) as errors', () => {
    const text = fixture('wrk-server-killed.txt');
    expect(text).toContain('Socket errors: connect 0, read 8, write 137627, timeout 0');
    const r = wrkResult(parseWrkOutput(text), 8);
    expect(r.errors).toBe(8 + 137627);
    expect(r.ok2xx).toBe(97931);
  });

  it('says what wrk printed when there is no summary line', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/no summary line[\s\S]*Connection refused/);
  });

  it('writes a script that POSTs the body file with the headers, paths and values quoted for Lua', () => {
    const script = wrkScript('/tmp/a "b"\\c', { 'content-type': 'application/octet-stream', 'inference-header-content-length': '147' });
    expect(script).toContain('io.open("/tmp/a \\"b\\"\\\\c", "rb")');
    expect(script).toContain('wrk.method = "POST"');
    expect(script).toContain('wrk.headers["inference-header-content-length"] = "147"');
    expect(script).toContain('function done(summary, latency, requests)');
    expect(luaString('é\n1')).toBe('"\\195\\169\\0101"');
  });

  it('runs c=1 on one thread (wrk needs a connection per thread)', () => {
    expect([wrkThreads(1, 2), wrkThreads(64, 2), wrkThreads(256, 1)]).toEqual([1, 2, 1]);
  });
});

describe('h2load', () => {
  it('reads the summary of a timed run', () => {
    expect(parseH2loadOutput(fixture('h2load-grpc-echo-c256.txt'))).toEqual({
      seconds: 3,
      requests: { total: 94272, started: 94528, done: 94272, succeeded: 94272, failed: 0, errored: 0, timeout: 0 },
      status: { '2xx': 94400, '3xx': 0, '4xx': 0, '5xx': 0 },
    });
    expect(parseH2loadOutput(fixture('h2load-grpc-echo-n400.txt')).seconds).toBeCloseTo(0.08505, 6);
  });

  it('computes p50/p99 of the 2xx answers from the per-request log (h2load prints none)', () => {
    const log = parseH2loadLog(fixture('h2load-grpc-echo-n400.log'));
    expect(log.byStatus).toEqual({ '200': 400 });
    expect(log.ok2xx).toBe(400);
    const r = h2loadResult(parseH2loadOutput(fixture('h2load-grpc-echo-n400.txt')), log, 8);
    // nearest rank over the 400 logged durations: the 200th and the 396th
    expect(r.latencyMs.p50).toBe(0.946);
    expect(r.latencyMs.p99).toBe(18.437);
    expect(r.reqPerSec).toBeCloseTo(400 / 0.08505, 3);
    expect([r.ok2xx, r.non2xx, r.errors]).toEqual([400, 0, 0]);
  });

  it('counts logged requests without a status (in flight when a --warm-up-time ended) as errors', () => {
    const log = parseH2loadLog(fixture('h2load-warm-up-carry-over.log'));
    expect(log.byStatus).toEqual({ '0': 256, '200': 44 });
    const summary = { seconds: 1, requests: { total: 300, started: 300, done: 300, succeeded: 300, failed: 0, errored: 0, timeout: 0 }, status: { '2xx': 300, '3xx': 0, '4xx': 0, '5xx': 0 } };
    const r = h2loadResult(summary, log, 256);
    expect([r.ok2xx, r.non2xx, r.errors]).toEqual([44, 0, 256]);
  });

  it('sees HTTP 200 for a gRPC error: the reason the bench checks grpc-status itself', () => {
    // 200 requests for a model switchyard does not serve: every answer was grpc-status 5 (NOT_FOUND)
    const s = parseH2loadOutput(fixture('h2load-switchyard-unknown-model.txt'));
    expect(s.status['2xx']).toBe(200);
    expect(s.requests.succeeded).toBe(200);
  });

  it('frames a gRPC message: flag 0, big-endian length, the message', () => {
    expect([...grpcFrame(Uint8Array.of(1, 2, 3))]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
  });

  it('spreads concurrency over up to 4 connections, the rest as streams', () => {
    expect([1, 2, 64, 256, 6].map(h2loadShape)).toEqual([
      { clients: 1, streams: 1 },
      { clients: 2, streams: 1 },
      { clients: 4, streams: 16 },
      { clients: 4, streams: 64 },
      { clients: 2, streams: 3 },
    ]);
  });

  it('refuses a log that is not h2load’s and output without a summary', () => {
    expect(() => parseH2loadLog('hello\n')).toThrow(/not "start<TAB>status<TAB>duration"/);
    expect(() => parseH2loadOutput('starting benchmark...\n')).toThrow(/no summary/);
  });
});

describe('percentile', () => {
  it('is nearest rank', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 99), percentile(v, 100), percentile(v, 0)]).toEqual([50, 99, 100, 1]);
    expect(percentile([], 50)).toBeNaN();
  });
});
