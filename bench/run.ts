/**
 * `npm run bench`: inference on the example `tabular` model through every door of switchyard
 * (REST JSON, gRPC unary, gRPC stream, WebSocket) against ceilings taken in the same run, so
 * that the ratios compare numbers measured side by side.
 *
 * Cases (each server in its own child process, the load generators in this one):
 *   ceiling              bench/servers/hello-uws.ts: reads the body, answers fixed JSON
 *   grpc-ceiling         bench/servers/grpc-echo.ts: @grpc/grpc-js, decodes ModelInfer, fixed answer
 *   grpc-stream-ceiling  the same server over ModelStreamInfer
 *   batching-on          switchyard REST JSON, the example repository as it is (dynamic batching up to 64)
 *   batching-off         switchyard REST JSON with tabular's `max_batch_size: 0`
 *   grpc                 switchyard gRPC ModelInfer, raw_input_contents, batching on
 *   grpc-stream          switchyard gRPC ModelStreamInfer on one stream, batching on
 *   ws                   switchyard WebSocket /v2/stream, JSON text frames on one socket, batching on
 *   monitoring-off       batching-on without request log, label join and drift (batching-on has them)
 *   shadow-on/-off       REST through a route to v1, with and without every request mirrored to v2
 *   features-redis       REST sending a customer id; x is read from a fresh redis-server each request
 *   features-direct      the same server, the request sends x itself
 *
 * Runs go in rounds: each round starts every case's server afresh, measures each
 * concurrency (warm-up, then measured run) and stops it; the median over rounds is reported.
 * Options: see lib/options.ts or bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCeiling, startGrpcEcho } from './lib/ceiling.js';
import { measureGrpc } from './lib/grpc-load.js';
import { measure, type LoadSettings, type LoadTarget, type Measured } from './lib/load.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { batchWindow, scrapeBatches, type BatchSnapshot } from './lib/metrics.js';
import { OptionsError, parseOptions, type BenchOptions } from './lib/options.js';
import { ceilingRatios, ceilingTable, checkAims, compare, comparisonAims, comparisonTable, type Comparison, markdown, ratios, ratiosTable, resultsTable, summarize, type BenchReport, type CaseInfo, type RunRecord } from './lib/report.js';
import { ensureBuilt, prepareRepository, startSwitchyard } from './lib/switchyard.js';
import { measureWs } from './lib/ws-load.js';
import { redisFeatureReads, startRedis } from './lib/redis.js';
import { loadServerConfig } from '../src/config/index.js';
import { loadFeatures } from '../src/features/index.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'tabular';
const EXAMPLE_REPOSITORY = path.join(REPO_ROOT, 'examples', 'models');

/** One row of 16 features; fixed so that every case and run sends the same bytes. */
const ROW = [0.42, -1.3, 0.07, 2.5, -0.61, 1.18, 0.0, -2.2, 0.93, 0.33, -0.05, 1.77, -1.02, 0.5, 0.26, -0.88];
const BODY = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, ROW.length], data: ROW }] });
const HEADERS = { 'content-type': 'application/json' };
/** The same row for gRPC, in raw_input_contents (little-endian FP32), as Triton's clients send it. */
const GRPC_REQUEST = {
  modelName: MODEL,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, BigInt(ROW.length)] }],
  rawInputContents: [new Uint8Array(Float32Array.from(ROW).buffer)],
};
/** The same row as a WebSocket text frame (the load generator adds each message's id). */
const WS_REQUEST = JSON.stringify({ model_name: MODEL, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, ROW.length], data: ROW }] });

/** How a case's load reaches its server. */
type Door = 'rest' | 'grpc' | 'grpc-stream' | 'ws';

interface Started {
  baseUrl: string;
  /** host:port of the gRPC door ('' when the server has none) */
  grpcAddress: string;
  facts: Record<string, string>;
  /** REST and WebSocket: the model (or route) called and the JSON body; default tabular and BODY */
  model?: string;
  body?: string;
  /** a Redis the server reads: its commands per request are counted over each run */
  redisUrl?: string;
  /** switchyard exposes /metrics with batching series; the ceiling does not */
  hasMetrics: boolean;
  stop(): Promise<void>;
}

interface CaseDef {
  info: Omit<CaseInfo, 'facts'>;
  door: Door;
  start(): Promise<Started>;
}

const CASES: readonly CaseDef[] = [
  {
    info: { id: 'ceiling', title: 'ceiling (uWS hello)', ceiling: null, description: 'uWebSockets.js server that reads the body and answers a fixed JSON: the most this machine serves over HTTP' },
    door: 'rest',
    async start() {
      const s = await startCeiling(REPO_ROOT);
      return { baseUrl: `http://127.0.0.1:${s.port}`, grpcAddress: '', facts: s.facts, hasMetrics: false, stop: () => s.stop() };
    },
  },
  {
    info: { id: 'grpc-ceiling', title: 'gRPC ceiling (grpc-js echo)', ceiling: null, description: '@grpc/grpc-js server that decodes ModelInfer and answers a fixed response: the most this machine serves over gRPC unary' },
    door: 'grpc',
    start: () => grpcEcho(),
  },
  {
    info: { id: 'grpc-stream-ceiling', title: 'gRPC stream ceiling (grpc-js echo)', ceiling: null, description: 'the same echo server over one ModelStreamInfer stream' },
    door: 'grpc-stream',
    start: () => grpcEcho(),
  },
  {
    info: { id: 'batching-on', title: 'switchyard REST, batching on', ceiling: 'ceiling', description: `switchyard REST JSON infer on ${MODEL}, its example config (dynamic batching)` },
    door: 'rest',
    start: () => switchyard('on'),
  },
  {
    info: { id: 'batching-off', title: 'switchyard REST, batching off', ceiling: 'ceiling', description: `switchyard REST JSON infer on ${MODEL} with max_batch_size: 0 (one request per model run)` },
    door: 'rest',
    start: () => switchyard('off'),
  },
  {
    info: {
      id: 'monitoring-off',
      title: 'switchyard REST, monitoring off',
      ceiling: 'ceiling',
      description: `as batching-on with no request log, no label join and no drift: the cost of monitoring is batching-on ÷ this`,
    },
    door: 'rest',
    start: () => switchyard('on', { request_log: { sinks: [] }, evaluation: { enabled: false }, drift: { enabled: false } }),
  },
  {
    info: { id: 'shadow-on', title: 'switchyard route, 100% shadow', ceiling: 'ceiling', description: 'REST through a route serving tabular v1 with every request mirrored to v2 (lowest priority, after the answer)' },
    door: 'rest',
    start: () => switchyard('on', { routes: { mirrored: { ...MIRRORED, shadow: [{ model: MODEL, version: '2', percent: 100 }] } } }, { model: 'mirrored' }),
  },
  {
    info: { id: 'shadow-off', title: 'switchyard route, no shadow', ceiling: 'ceiling', description: 'the same route without shadow traffic' },
    door: 'rest',
    start: () => switchyard('on', { routes: { mirrored: MIRRORED } }, { model: 'mirrored' }),
  },
  {
    info: { id: 'features-redis', title: 'switchyard, features from Redis', ceiling: 'ceiling', description: 'REST with a customer id; x (16 FP32) read from Redis on every request (no local cache)' },
    door: 'rest',
    start: () => featuresCase(),
  },
  {
    info: { id: 'features-direct', title: 'switchyard, features sent', ceiling: 'ceiling', description: 'the same model and config, the request sends x itself (no lookup)' },
    door: 'rest',
    start: () => featuresCase(BODY),
  },
  {
    info: { id: 'grpc', title: 'switchyard gRPC unary', ceiling: 'grpc-ceiling', description: `switchyard gRPC ModelInfer (raw_input_contents) on ${MODEL}, batching on, one channel` },
    door: 'grpc',
    start: () => switchyard('on'),
  },
  {
    info: { id: 'grpc-stream', title: 'switchyard gRPC stream', ceiling: 'grpc-stream-ceiling', description: `switchyard gRPC ModelStreamInfer on ${MODEL}, batching on, one stream` },
    door: 'grpc-stream',
    start: () => switchyard('on'),
  },
  {
    info: { id: 'ws', title: 'switchyard WebSocket', ceiling: 'ceiling', description: `switchyard /v2/stream JSON text frames on ${MODEL}, batching on, one socket (ceiling: the HTTP one)` },
    door: 'ws',
    start: () => switchyard('on'),
  },
];

/** Features measured as the same load with the feature on and off. */
const COMPARISONS: readonly Comparison[] = [
  { title: 'monitoring (request log, label join, drift)', with: 'batching-on', without: 'monitoring-off', aim: 0.9 },
  { title: 'shadow (100% mirrored to v2)', with: 'shadow-on', without: 'shadow-off' },
  { title: 'features from Redis (by customer id)', with: 'features-redis', without: 'features-direct' },
];

/** A route serving tabular v1 (the shadow cases add their mirror). */
const MIRRORED = { policy: 'weighted', targets: [{ model: MODEL, version: '1', weight: 100 }] };

/**
 * switchyard with the example customer view reading a fresh redis-server loaded with the
 * example customers; `body` null = requests send a customer id, else that body.
 */
async function featuresCase(body: string | null = null): Promise<Started> {
  const redis = await startRedis();
  try {
    const example = loadServerConfig(path.join(REPO_ROOT, 'examples', 'switchyard.yaml'), {});
    const view = { ...example.features.views.customer, ttl_ms: 0 };
    await loadFeatures({ view: 'customer', views: { customer: view }, file: path.join(REPO_ROOT, 'examples', 'features', 'customer.jsonl'), redisUrl: redis.url });
    const s = await switchyard(
      'on',
      { redis: { url: redis.url }, features: { views: { customer: view } }, models: { [MODEL]: { features: { input: 'x', views: ['customer'] } } } },
      { body: body ?? JSON.stringify({ inputs: [{ name: 'customer_id', datatype: 'BYTES', shape: [1], data: ['c42'] }] }), redisUrl: redis.url },
    );
    return {
      ...s,
      async stop() {
        await s.stop();
        await redis.stop();
      },
    };
  } catch (e) {
    await redis.stop();
    throw e;
  }
}

async function grpcEcho(): Promise<Started> {
  const s = await startGrpcEcho(REPO_ROOT);
  return { baseUrl: '', grpcAddress: `127.0.0.1:${s.port}`, facts: s.facts, hasMetrics: false, stop: () => s.stop() };
}

/** Warm-up and one measured run of `c`'s door at `connections` requests in flight. */
interface Probe {
  batches: BatchSnapshot | null;
  /** commands the server's Redis has processed */
  redis: number | null;
}

function load(c: CaseDef, server: Started, settings: LoadSettings, probe: () => Promise<Probe>): Promise<Measured<Probe>> {
  switch (c.door) {
    case 'rest':
      return measure({ url: `${server.baseUrl}/v2/models/${server.model ?? MODEL}/infer`, body: server.body ?? BODY, headers: HEADERS }, settings, probe);
    case 'grpc':
    case 'grpc-stream':
      return measureGrpc(
        { address: server.grpcAddress, mode: c.door === 'grpc' ? 'unary' : 'stream', request: GRPC_REQUEST },
        { concurrency: settings.connections, duration: settings.duration, warmup: settings.warmup },
        probe,
      );
    case 'ws':
      return measureWs({ url: `${server.baseUrl.replace(/^http/, 'ws')}/v2/stream`, request: WS_REQUEST, tensors: null }, settings, probe);
  }
}

async function switchyard(mode: 'on' | 'off', config: Record<string, unknown> = {}, load: Pick<Started, 'model' | 'body' | 'redisUrl'> = {}): Promise<Started> {
  const repository = prepareRepository(EXAMPLE_REPOSITORY, MODEL, mode);
  const s = await startSwitchyard({ repoRoot: REPO_ROOT, repository, name: `switchyard (batching ${mode})`, config });
  return { baseUrl: s.baseUrl, grpcAddress: s.grpcAddress, facts: s.server.facts, hasMetrics: true, ...load, stop: () => s.stop() };
}

/** One request before measuring: a server that does not answer 200 with outputs stops the bench. */
async function checkServer(caseId: string, target: LoadTarget): Promise<void> {
  const res = await fetch(target.url, { method: 'POST', body: target.body, headers: target.headers });
  const text = await res.text();
  let outputs: unknown = null;
  try {
    outputs = (JSON.parse(text) as { outputs?: unknown }).outputs;
  } catch {
    // reported below
  }
  if (res.status !== 200 || !Array.isArray(outputs)) {
    throw new Error(`${caseId}: POST ${target.url} answered ${res.status} ${text.slice(0, 300)} — expected 200 with an "outputs" array`);
  }
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function localDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env, CASES.map((c) => c.info.id), path.join(REPO_ROOT, 'bench', 'results'));
  } catch (e) {
    if (e instanceof OptionsError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const started = new Date();
  const machine = describeMachine(REPO_ROOT);
  log(`machine: ${machineLine(machine)}`);
  const needsSwitchyard = options.cases.some((c) => !c.endsWith('ceiling'));
  const build = needsSwitchyard ? ensureBuilt(REPO_ROOT) : 'not needed';
  log(`build: ${build}`);
  const cases = CASES.filter((c) => options.cases.includes(c.info.id));
  const perCell = cases.length * options.concurrency.length;
  const seconds = options.runs * perCell * (options.duration + options.warmup);
  log(`plan: ${options.runs} round(s) × ${cases.length} case(s) × concurrency ${options.concurrency.join(',')}: ${options.warmup} s warm-up + ${options.duration} s each, about ${Math.ceil(seconds / 60)} min`);

  const runs = new Map<string, RunRecord[]>();
  const facts = new Map<string, Record<string, string>>();
  for (let round = 1; round <= options.runs; round++) {
    for (const c of cases) {
      const server = await c.start();
      if (!facts.has(c.info.id)) facts.set(c.info.id, server.facts);
      try {
        if (server.baseUrl !== '') await checkServer(c.info.id, { url: `${server.baseUrl}/v2/models/${server.model ?? MODEL}/infer`, body: server.body ?? BODY, headers: HEADERS });
        for (const connections of options.concurrency) {
          const probe = server.hasMetrics ? () => scrapeBatches(server.baseUrl, MODEL) : null;
          const redisUrl = server.redisUrl;
          const { result, before, after } = await load(c, server, { connections, duration: options.duration, warmup: options.warmup }, async () => ({
            batches: probe === null ? null : await probe(),
            redis: redisUrl === undefined ? null : await redisFeatureReads(redisUrl),
          }));
          const batching = before?.batches != null && after?.batches != null ? batchWindow(before.batches, after.batches) : null;
          const answered = result.ok2xx + result.non2xx;
          const redisCalls = before?.redis != null && after?.redis != null && answered > 0 ? (after.redis - before.redis) / answered : null;
          const record: RunRecord = { ...result, round, batching, redisCommandsPerRequest: redisCalls };
          const key = `${c.info.id}@${connections}`;
          runs.set(key, [...(runs.get(key) ?? []), record]);
          const batch = batching?.meanBatchSize != null ? `, mean batch ${batching.meanBatchSize.toFixed(1)}` : '';
          log(
            `[round ${round}/${options.runs}] ${c.info.id} c=${connections}: ${Math.round(result.reqPerSec)} req/s, ` +
              `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, ` +
              `errors ${result.errors}, non-2xx ${result.non2xx}${batch}`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }

  const cells = cases.flatMap((c) => options.concurrency.map((n) => summarize(c.info.id, n, runs.get(`${c.info.id}@${n}`) ?? [])));
  const ratioRows = ratios(cells, options.concurrency, 'batching-on', 'batching-off', 'ceiling');
  const vsCeiling = ceilingRatios(cells, cases.map((c) => c.info));
  const compareRows = compare(cells, COMPARISONS);
  const args = process.argv.slice(2);
  const report: BenchReport = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    machine,
    options: { ...options, out: path.relative(REPO_ROOT, options.out) || '.' },
    build,
    cases: cases.map((c) => ({ ...c.info, facts: facts.get(c.info.id) ?? {} })),
    cells,
    ratios: ratioRows,
    ceilingRatios: vsCeiling,
    comparisons: compareRows,
    aims: [...checkAims(ratioRows), ...comparisonAims(compareRows, COMPARISONS)],
  };

  log('');
  log(resultsTable(report));
  log('');
  log(ratiosTable(report));
  log('');
  log(ceilingTable(report));
  if (report.comparisons.length > 0) {
    log('');
    log(comparisonTable(report));
  }
  for (const a of report.aims) log(`aim: ${a.description}: ${a.value.toFixed(2)} (≥ ${a.target}) ${a.met ? 'met' : 'NOT met'}`);

  mkdirSync(options.out, { recursive: true });
  const stem = path.join(options.out, `${localDate(started)}${options.quick ? '.quick' : ''}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${stem}.md`, markdown(report));
  log('');
  log(`wrote ${path.relative(process.cwd(), stem)}.json and .md`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
