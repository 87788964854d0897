/**
 * Microbenchmark of the request metrics' cost on the event loop: what the gateway's
 * `switchyard:request:end` subscriber does per request (one counter inc, two histogram
 * observations) and the batch subscribers per batch (a counter, two histograms).
 * Baseline in the same run: plain prom-client metrics with label objects, as the
 * subscribers called them before src/telemetry/fast-metrics; against FastCounter /
 * FastHistogram series(); and the whole path through diagnostics_channel into Metrics.
 *
 *   npx tsx bench/micro/telemetry-metrics.ts [--requests 2000000]
 */
import { channel } from 'node:diagnostics_channel';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';
import { BATCH_COMPLETE_CHANNEL, BATCH_DISPATCH_CHANNEL } from '../../src/batching/index.js';
import { FastCounter, FastHistogram } from '../../src/telemetry/fast-metrics/index.js';
import { REQUEST_END_CHANNEL, type RequestEnd } from '../../src/core/index.js';
import { Metrics } from '../../src/telemetry/index.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000000' } } });
const N = Number(values.requests);
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

// 64 requests over 2 models × 2 versions × 2 protocols, latencies 0.2–3 ms, a few errors
const requests: RequestEnd[] = [];
for (let i = 0; i < 64; i++) {
  const totalUs = 200 + ((i * 397) % 2800);
  requests.push({ model: i % 2 ? 'tabular' : 'simple', version: String(1 + (i % 4 >> 1)), protocol: i % 8 < 6 ? 'rest' : 'grpc', status: i % 16 === 5 ? 'SY_ERR_QUEUE_FULL' : 'success', totalUs, queueUs: totalUs / 3 });
}
const batches = requests.map((r, i) => ({ model: r.model, version: r.version, items: 1 + (i % 40), requests: 1 + (i % 40), reason: i % 3 ? 'delay' : 'full', computeUs: r.totalUs / 2, error: false }));

type Body = { request(m: RequestEnd): void; batch(b: (typeof batches)[number]): void };

function promClient(): Body {
  const registers = [new Registry()];
  const requestsTotal = new Counter({ name: 'r', help: 'h', labelNames: ['model', 'version', 'protocol', 'status'], registers });
  const requestSeconds = new Histogram({ name: 'rs', help: 'h', labelNames: ['model', 'version', 'protocol'], buckets: LATENCY_BUCKETS, registers });
  const queueSeconds = new Histogram({ name: 'qs', help: 'h', labelNames: ['model', 'version'], buckets: LATENCY_BUCKETS, registers });
  const computeSeconds = new Histogram({ name: 'cs', help: 'h', labelNames: ['model', 'version'], buckets: LATENCY_BUCKETS, registers });
  const batchSize = new Histogram({ name: 'bs', help: 'h', labelNames: ['model', 'version'], buckets: BATCH_BUCKETS, registers });
  const batchesTotal = new Counter({ name: 'b', help: 'h', labelNames: ['model', 'version', 'reason'], registers });
  return {
    request(m) {
      requestsTotal.inc({ model: m.model, version: m.version, protocol: m.protocol, status: m.status });
      if (m.status === 'success') {
        requestSeconds.observe({ model: m.model, version: m.version, protocol: m.protocol }, m.totalUs / 1e6);
        queueSeconds.observe({ model: m.model, version: m.version }, m.queueUs / 1e6);
      }
    },
    batch(b) {
      batchesTotal.inc({ model: b.model, version: b.version, reason: b.reason });
      batchSize.observe({ model: b.model, version: b.version }, b.items);
      computeSeconds.observe({ model: b.model, version: b.version }, b.computeUs / 1e6);
    },
  };
}

function fast(): Body {
  const registers = [new Registry()];
  const requestsTotal = new FastCounter({ name: 'r', help: 'h', labelNames: ['model', 'version', 'protocol', 'status'], registers });
  const requestSeconds = new FastHistogram({ name: 'rs', help: 'h', labelNames: ['model', 'version', 'protocol'], buckets: LATENCY_BUCKETS, registers });
  const queueSeconds = new FastHistogram({ name: 'qs', help: 'h', labelNames: ['model', 'version'], buckets: LATENCY_BUCKETS, registers });
  const computeSeconds = new FastHistogram({ name: 'cs', help: 'h', labelNames: ['model', 'version'], buckets: LATENCY_BUCKETS, registers });
  const batchSize = new FastHistogram({ name: 'bs', help: 'h', labelNames: ['model', 'version'], buckets: BATCH_BUCKETS, registers });
  const batchesTotal = new FastCounter({ name: 'b', help: 'h', labelNames: ['model', 'version', 'reason'], registers });
  return {
    request(m) {
      requestsTotal.series(m.model, m.version, m.protocol, m.status).inc();
      if (m.status === 'success') {
        requestSeconds.series(m.model, m.version, m.protocol).observe(m.totalUs / 1e6);
        queueSeconds.series(m.model, m.version).observe(m.queueUs / 1e6);
      }
    },
    batch(b) {
      batchesTotal.series(b.model, b.version, b.reason).inc();
      batchSize.series(b.model, b.version).observe(b.items);
      computeSeconds.series(b.model, b.version).observe(b.computeUs / 1e6);
    },
  };
}

/** The real subscribers: publishing on the channels Metrics listens to. */
function metrics(): Body & { close(): void } {
  const m = new Metrics(() => []);
  const end = channel(REQUEST_END_CHANNEL);
  const dispatch = channel(BATCH_DISPATCH_CHANNEL);
  const complete = channel(BATCH_COMPLETE_CHANNEL);
  return {
    request: (r) => end.publish(r),
    batch(b) {
      dispatch.publish(b);
      complete.publish(b);
    },
    close: () => m.close(),
  };
}

/** ns per call of `run` over N calls, best of three passes (the first warms up). */
function time(run: (i: number) => void): number {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) run(i & 63);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
  }
  return best;
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`node ${process.version} · ${os.platform()} ${os.arch()} · ${cpu} × ${os.cpus().length} · ${N} calls per pass`);
const rows: [string, Body][] = [['prom-client, label objects', promClient()], ['FastCounter/FastHistogram', fast()]];
const channelBody = metrics();
rows.push(['Metrics via diagnostics_channel', channelBody]);
for (const [name, body] of rows) {
  const perRequest = time((i) => body.request(requests[i]));
  const perBatch = time((i) => body.batch(batches[i]));
  console.log(`${name.padEnd(32)} ${perRequest.toFixed(0).padStart(5)} ns/request   ${perBatch.toFixed(0).padStart(5)} ns/batch`);
}
channelBody.close();
