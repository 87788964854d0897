/**
 * `npm run bench`: inference through every door of switchyard (REST JSON, REST binary, gRPC
 * unary, gRPC stream, WebSocket) against ceilings and a peer taken in the same run, so that
 * the ratios compare numbers measured side by side.
 *
 * Cases (each server in its own child process; load from wrk and h2load, child processes as
 * well, or for gRPC stream and WebSocket from `switchyard bench`'s generators in this one):
 *   raw-ort              compute ceiling: onnxruntime-node in process on `heavy`, batch sizes 1…64 back to back
 *   ceiling              bench/servers/hello-uws.ts: reads the body, answers fixed JSON
 *   grpc-ceiling         bench/servers/grpc-echo.ts: @grpc/grpc-js, decodes ModelInfer, fixed answer
 *   grpc-stream-ceiling  the same server over ModelStreamInfer
 *   peer                 bench/servers/peer-http.ts: node:http + onnxruntime-node, one session.run per request
 *   peer-uws             bench/servers/peer-uws-inline.ts: uWebSockets.js + onnxruntime-node, session.run inline per request
 *   mlserver             Seldon MLServer with a custom onnxruntime runtime (bench/servers/mlserver/), from .venv-bench
 *   kserve               KServe's Python ModelServer with an onnxruntime model (bench/servers/kserve_peer.py), from .venv-bench
 *   batching-on          switchyard REST JSON, the example repository as it is (dynamic batching up to 64)
 *   batching-off         switchyard REST JSON with tabular's `max_batch_size: 0`
 *   rest-binary          switchyard REST with Triton's binary tensor extension, batching on
 *   grpc                 switchyard gRPC ModelInfer, raw_input_contents, batching on
 *   grpc-stream          switchyard gRPC ModelStreamInfer on one stream, batching on
 *   ws                   switchyard WebSocket /v2/stream, JSON text frames on one socket, batching on
 *   heavy                switchyard REST binary on the compute-bound `heavy` model (512 FP32 per row)
 *   heavy-peer           the peer on `heavy`, REST binary
 *   heavy-peer-uws       the uWS peer on `heavy`, REST binary
 *   monitoring-off       batching-on without request log, label join and drift (batching-on has them)
 *   shadow-on/-off       REST through a route to v1, with and without every request mirrored to v2
 *   features-redis       REST sending a customer id; x is read from a fresh redis-server each request
 *   features-direct      the same server, the request sends x itself
 *
 * mlserver and kserve run from .venv-bench (`bash scripts/bench-venv.sh` builds it): without
 * it they are left out with that advice, or, when named in --cases, the bench stops before
 * starting anything.
 *
 * Runs go in rounds: each round starts every case's server afresh, measures each
 * concurrency (warm-up, then measured run) and stops it; the median over rounds is reported.
 * Each measured run also reports where the CPU went per request: the server's main thread,
 * its other threads, the load generator (lib/accounting.ts).
 * Options: see lib/options.ts or bench/README.md.
 *
 * Adding a case (e.g. another peer server): append a CaseDef to CASES with its id, title,
 * ceiling (the case it is compared with), door, and a `start` that returns `fromServer(s)`
 * for a lib/processes.ts ServerProcess `s` (what lib/ceiling.ts's startPeer returns): the
 * server's pid is what its CPU is read from, its port the HTTP door (pass `grpcAddress` for a
 * gRPC door). Add its id to README's case list; COMPARISONS in lib/suite.ts pairs it with another.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { accountCpu, cpuProbe, type CpuProbe, type RunCpu } from './lib/accounting.js';
import { runRawOrt, startCeiling, startGrpcEcho, startPeer, startPeerUws } from './lib/ceiling.js';
import { blindToGrpcStatus, checkDoor, findGenerators, jsonBody, loadDoor, metricsProtocol, type Door, type DoorTarget } from './lib/doors.js';
import type { ServerProcess } from './lib/processes.js';
import { describeMachine, machineLine } from '../src/loadgen/machine.js';
import { batchWindow, failedInWindow, scrapeServer, type BatchSnapshot, type OutcomeSnapshot } from './lib/metrics.js';
import { OptionsError, parseOptions, type BenchOptions } from './lib/options.js';
import {
  ceilingRatios,
  ceilingTable,
  checkAims,
  compare,
  comparisonAims,
  comparisonTable,
  computeAims,
  computeSummary,
  computeTable,
  type ComputeRound,
  markdown,
  ratios,
  ratiosTable,
  resultsTable,
  summarize,
  type BenchReport,
  type CaseInfo,
  type RunRecord,
} from './lib/report.js';
import { ensureBuilt, prepareRepository, startSwitchyard } from './lib/switchyard.js';
import { COMPARISONS, COMPUTE_AIM, HEAVY, RAW_ORT } from './lib/suite.js';
import { benchVenvProblem, planVenvCases, startKserve, startMlserver } from './lib/python-peers.js';
import { redisFeatureReads, startRedis } from './lib/redis.js';
import { loadServerConfig } from '../src/config/index.js';
import { loadFeatures } from '../src/features/index.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'tabular';
const EXAMPLE_REPOSITORY = path.join(REPO_ROOT, 'examples', 'models');

/** One row of 16 features; fixed so that every case and run sends the same bytes. */
const ROW = [0.42, -1.3, 0.07, 2.5, -0.61, 1.18, 0.0, -2.2, 0.93, 0.33, -0.05, 1.77, -1.02, 0.5, 0.26, -0.88];
/** One row of heavy's 512 inputs, fixed as well. */
const HEAVY_ROW = Array.from({ length: 512 }, (_, i) => Math.round(Math.sin(i * 0.37) * 1000) / 1000);
const BODY = jsonBody(ROW);
/** raw-ort: batch sizes tried (heavy batches up to 64 in switchyard) and seconds measured at each */
const RAW_ORT_BATCHES = [1, 8, 16, 32, 64];

interface Started {
  /** the server's process: its threads' CPU is read over each measured run */
  pid: number;
  baseUrl: string;
  /** host:port of the gRPC door ('' when the server has none) */
  grpcAddress: string;
  facts: Record<string, string>;
  /** the model (or route) called; default tabular */
  model?: string;
  /** the FP32 row sent as input `x`; default ROW */
  row?: readonly number[];
  /** REST JSON: the body, when it is not the row (e.g. a customer id); default jsonBody(row) */
  body?: string;
  /** a Redis the server reads: its commands per request are counted over each run */
  redisUrl?: string;
  /** switchyard exposes /metrics with batching series; the ceiling does not */
  hasMetrics: boolean;
  stop(): Promise<void>;
}

interface CaseDef {
  info: Omit<CaseInfo, 'facts'>;
  /** how the load reaches the server, and which generator drives it (lib/doors.ts) */
  door: Door;
  /** the case runs switchyard (dist/ is built first when stale) */
  switchyard: boolean;
  /** the server runs from .venv-bench (scripts/bench-venv.sh): the Python peers */
  benchVenv?: boolean;
  start(): Promise<Started>;
}

/** A bench server process (lib/processes.ts) as a case's Started: HTTP on its port, no /metrics. */
function fromServer(s: ServerProcess, extra: Partial<Omit<Started, 'pid' | 'stop'>> = {}): Started {
  return { pid: s.pid, baseUrl: `http://127.0.0.1:${s.port}`, grpcAddress: '', facts: s.facts, hasMetrics: false, ...extra, stop: () => s.stop() };
}


const CASES: readonly CaseDef[] = [
  {
    info: { id: 'ceiling', title: 'ceiling (uWS hello)', ceiling: null, description: 'uWebSockets.js server that reads the body and answers a fixed JSON: the most this machine serves over HTTP' },
    door: 'rest',
    switchyard: false,
    start: async () => fromServer(await startCeiling(REPO_ROOT)),
  },
  {
    info: { id: 'grpc-ceiling', title: 'gRPC ceiling (grpc-js echo)', ceiling: null, description: '@grpc/grpc-js server that decodes ModelInfer and answers a fixed response: the most this machine serves over gRPC unary' },
    door: 'grpc',
    switchyard: false,
    start: () => grpcEcho(),
  },
  {
    info: { id: 'grpc-stream-ceiling', title: 'gRPC stream ceiling (grpc-js echo)', ceiling: null, description: 'the same echo server over one ModelStreamInfer stream' },
    door: 'grpc-stream',
    switchyard: false,
    start: () => grpcEcho(),
  },
  {
    info: {
      id: 'peer',
      title: 'peer (node:http + ORT per request)',
      ceiling: 'ceiling',
      description: `what a Node user would write instead: node:http, one onnxruntime-node session with ORT's defaults, session.run() once per request on ${MODEL}, no batching`,
    },
    door: 'rest',
    switchyard: false,
    start: async () => fromServer(await startPeer(REPO_ROOT, path.join(EXAMPLE_REPOSITORY, MODEL, '1', 'model.onnx'))),
  },
  {
    info: {
      id: 'peer-uws',
      title: 'peer (uWS + ORT inline per request)',
      ceiling: 'ceiling',
      description: `the strongest a Node user would write: uWebSockets.js, one onnxruntime-node session with ORT's defaults, session.run() inline per request on ${MODEL}, no batching (the peer's codec, uWS instead of node:http)`,
    },
    door: 'rest',
    switchyard: false,
    start: async () => fromServer(await startPeerUws(REPO_ROOT, path.join(EXAMPLE_REPOSITORY, MODEL, '1', 'model.onnx'))),
  },
  {
    info: {
      id: 'mlserver',
      title: 'MLServer (custom ORT runtime)',
      ceiling: 'ceiling',
      description:
        `Seldon MLServer, bench/servers/mlserver: an MLModel running ${MODEL}'s ONNX file with onnxruntime (Python, ORT's defaults) once per request, no adaptive batching; ` +
        `MLServer's defaults (metrics server on) except parallel_workers: 0 (inference in the server process: 3× the req/s of the default 1 worker process on 2 cores), debug: false (no access line per request) and free ports for HTTP, gRPC and metrics`,
    },
    door: 'rest',
    switchyard: false,
    benchVenv: true,
    start: async () => fromServer(await startMlserver(REPO_ROOT, MODEL)),
  },
  {
    info: {
      id: 'kserve',
      title: 'KServe ModelServer (ORT model)',
      ceiling: 'ceiling',
      description:
        `KServe's Python ModelServer, bench/servers/kserve_peer.py: a kserve.Model running ${MODEL}'s ONNX file with onnxruntime (Python, ORT's defaults) once per request; ` +
        `its defaults (one uvicorn worker) except gRPC off and no log line per request (access log, kserve.trace timings, latency logging)`,
    },
    door: 'rest',
    switchyard: false,
    benchVenv: true,
    start: async () => fromServer(await startKserve(REPO_ROOT, path.join(EXAMPLE_REPOSITORY, MODEL, '1', 'model.onnx'), MODEL)),
  },
  {
    info: { id: 'batching-on', title: 'switchyard REST, batching on', ceiling: 'ceiling', description: `switchyard REST JSON infer on ${MODEL}, its example config (dynamic batching)` },
    door: 'rest',
    switchyard: true,
    start: () => switchyard('on'),
  },
  {
    info: { id: 'batching-off', title: 'switchyard REST, batching off', ceiling: 'ceiling', description: `switchyard REST JSON infer on ${MODEL} with max_batch_size: 0 (one request per model run)` },
    door: 'rest',
    switchyard: true,
    start: () => switchyard('off'),
  },
  {
    info: { id: 'rest-binary', title: 'switchyard REST binary', ceiling: 'ceiling', description: `switchyard REST with Triton's binary tensor extension (input and outputs as raw bytes) on ${MODEL}, batching on` },
    door: 'rest-binary',
    switchyard: true,
    start: () => switchyard('on'),
  },
  {
    info: {
      id: 'monitoring-off',
      title: 'switchyard REST, monitoring off',
      ceiling: 'ceiling',
      description: `as batching-on with no request log, no label join and no drift: the cost of monitoring is batching-on ÷ this`,
    },
    door: 'rest',
    switchyard: true,
    start: () => switchyard('on', { request_log: { sinks: [] }, evaluation: { enabled: false }, drift: { enabled: false } }),
  },
  {
    info: { id: 'shadow-on', title: 'switchyard route, 100% shadow', ceiling: 'ceiling', description: 'REST through a route serving tabular v1 with every request mirrored to v2 (lowest priority, after the answer)' },
    door: 'rest',
    switchyard: true,
    start: () => switchyard('on', { routes: { mirrored: { ...MIRRORED, shadow: [{ model: MODEL, version: '2', percent: 100 }] } } }, { model: 'mirrored' }),
  },
  {
    info: { id: 'shadow-off', title: 'switchyard route, no shadow', ceiling: 'ceiling', description: 'the same route without shadow traffic' },
    door: 'rest',
    switchyard: true,
    start: () => switchyard('on', { routes: { mirrored: MIRRORED } }, { model: 'mirrored' }),
  },
  {
    info: { id: 'features-redis', title: 'switchyard, features from Redis', ceiling: 'ceiling', description: 'REST with a customer id; x (16 FP32) read from Redis on every request (no local cache)' },
    door: 'rest',
    switchyard: true,
    start: () => featuresCase(),
  },
  {
    info: { id: 'features-direct', title: 'switchyard, features sent', ceiling: 'ceiling', description: 'the same model and config, the request sends x itself (no lookup)' },
    door: 'rest',
    switchyard: true,
    start: () => featuresCase(BODY),
  },
  {
    info: { id: 'grpc', title: 'switchyard gRPC unary', ceiling: 'grpc-ceiling', description: `switchyard gRPC ModelInfer (raw_input_contents) on ${MODEL}, batching on, one channel` },
    door: 'grpc',
    switchyard: true,
    start: () => switchyard('on'),
  },
  {
    info: { id: 'grpc-stream', title: 'switchyard gRPC stream', ceiling: 'grpc-stream-ceiling', description: `switchyard gRPC ModelStreamInfer on ${MODEL}, batching on, one stream` },
    door: 'grpc-stream',
    switchyard: true,
    start: () => switchyard('on'),
  },
  {
    info: { id: 'ws', title: 'switchyard WebSocket', ceiling: 'ceiling', description: `switchyard /v2/stream JSON text frames on ${MODEL}, batching on, one socket (ceiling: the HTTP one)` },
    door: 'ws',
    switchyard: true,
    start: () => switchyard('on'),
  },
  {
    info: {
      id: 'heavy',
      title: 'switchyard REST binary, heavy model',
      ceiling: null,
      description: `switchyard REST binary on ${HEAVY} (one row of 512 FP32 per request, six 512×512 MatMul+Relu), dynamic batching up to 64: compared with raw-ort's best rows/s`,
    },
    door: 'rest-binary',
    switchyard: true,
    start: () => switchyard('on', {}, { model: HEAVY, row: HEAVY_ROW }),
  },
  {
    info: {
      id: 'heavy-peer',
      title: 'peer, heavy model',
      ceiling: null,
      description: `the per-request peer (node:http + onnxruntime-node, one session.run per request) on ${HEAVY}, REST binary`,
    },
    door: 'rest-binary',
    switchyard: false,
    start: async () => fromServer(await startPeer(REPO_ROOT, path.join(EXAMPLE_REPOSITORY, HEAVY, '1', 'model.onnx')), { model: HEAVY, row: HEAVY_ROW }),
  },
  {
    info: {
      id: 'heavy-peer-uws',
      title: 'uWS peer, heavy model',
      ceiling: null,
      description: `the uWS peer (uWebSockets.js + onnxruntime-node, session.run() inline per request) on ${HEAVY}, REST binary`,
    },
    door: 'rest-binary',
    switchyard: false,
    start: async () => fromServer(await startPeerUws(REPO_ROOT, path.join(EXAMPLE_REPOSITORY, HEAVY, '1', 'model.onnx')), { model: HEAVY, row: HEAVY_ROW }),
  },
];

const CASE_IDS = [RAW_ORT, ...CASES.map((c) => c.info.id)];
const VENV_CASES = new Set(CASES.filter((c) => c.benchVenv === true).map((c) => c.info.id));

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
  return fromServer(s, { baseUrl: '', grpcAddress: `127.0.0.1:${s.port}` });
}

/** What a probe reads before and after each measured run. */
interface Probe {
  /** the server's threads and the machine's CPU times */
  cpu: CpuProbe;
  batches: BatchSnapshot | null;
  /** switchyard's own count of the door's requests by outcome */
  outcomes: OutcomeSnapshot | null;
  /** commands the server's Redis has processed */
  redis: number | null;
}

/** The model a server's batching series are read for: the route's target for routes. */
const metricsModel = (server: Started): string => (server.model === HEAVY ? HEAVY : MODEL);

const doorTarget = (server: Started): DoorTarget => ({ baseUrl: server.baseUrl, grpcAddress: server.grpcAddress, model: server.model ?? MODEL, row: server.row ?? ROW, body: server.body });

async function switchyard(mode: 'on' | 'off', config: Record<string, unknown> = {}, load: Pick<Started, 'model' | 'row' | 'body' | 'redisUrl'> = {}): Promise<Started> {
  const repository = prepareRepository(EXAMPLE_REPOSITORY, MODEL, mode);
  const s = await startSwitchyard({ repoRoot: REPO_ROOT, repository, name: `switchyard (batching ${mode})`, config });
  return { pid: s.server.pid, baseUrl: s.baseUrl, grpcAddress: s.grpcAddress, facts: s.server.facts, hasMetrics: true, ...load, stop: () => s.stop() };
}

/** The CPU part of a run's log line. */
function cpuLine(cpu: RunCpu | null): string {
  if (cpu === null) return '';
  const us = (n: number | null): string => (n === null ? '—' : n.toFixed(1));
  const pct = (n: number | null): string => (n === null ? '—' : `${Math.round(n * 100)}%`);
  const g = cpu.generator;
  const flags = [cpu.generatorSaturated ? 'GENERATOR SATURATED' : '', cpu.machineSaturated ? 'machine saturated' : ''].filter((f) => f !== '');
  return (
    `; CPU µs/req main ${us(cpu.mainUsPerRequest)}, other ${us(cpu.otherUsPerRequest)}, generator ${us(cpu.generatorUsPerRequest)}` +
    ` (${g?.name ?? '?'} load ${pct(cpu.generatorLoad)}), machine busy ${pct(cpu.machineBusy)}${flags.length > 0 ? ` — ${flags.join(', ')}` : ''}`
  );
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
    options = parseOptions(process.argv.slice(2), process.env, CASE_IDS, path.join(REPO_ROOT, 'bench', 'results'));
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
  // the Python peers need .venv-bench: left out with the reason when the case list is the
  // default; named ones without it stop the bench here, as a missing wrk does below
  const venvProblem = options.cases.some((c) => VENV_CASES.has(c)) ? benchVenvProblem(REPO_ROOT) : null;
  const plan = planVenvCases(options.cases, VENV_CASES, options.casesGiven, venvProblem);
  if (plan.skipped.length > 0) log(`skipped: ${plan.skipped.join(', ')} — ${plan.reason}`);
  const cases = CASES.filter((c) => plan.run.includes(c.info.id));
  // before anything starts: a missing wrk or h2load stops the bench here, saying how to install it
  const generators = findGenerators(cases.map((c) => c.door), options.wrkThreads);
  const cores = availableParallelism();
  const build = cases.some((c) => c.switchyard) ? ensureBuilt(REPO_ROOT) : 'not needed';
  log(`build: ${build}`);
  const withRawOrt = options.cases.includes(RAW_ORT);
  const rawOrtSeconds = Math.max(1, Math.round(options.duration / 2));
  const perCell = cases.length * options.concurrency.length;
  const seconds = options.runs * (perCell * (options.duration + options.warmup) + (withRawOrt ? RAW_ORT_BATCHES.length * (rawOrtSeconds + 1) : 0));
  log(`plan: ${options.runs} round(s) × ${cases.length} case(s) × concurrency ${options.concurrency.join(',')}: ${options.warmup} s warm-up + ${options.duration} s each, about ${Math.ceil(seconds / 60)} min`);

  const runs = new Map<string, RunRecord[]>();
  const facts = new Map<string, Record<string, string>>();
  const computeRounds: ComputeRound[] = [];
  for (let round = 1; round <= options.runs; round++) {
    if (withRawOrt) {
      const raw = await runRawOrt(REPO_ROOT, { model: path.join(EXAMPLE_REPOSITORY, HEAVY, '1', 'model.onnx'), input: 'x', width: HEAVY_ROW.length, batches: RAW_ORT_BATCHES, seconds: rawOrtSeconds });
      facts.set(RAW_ORT, { ort: `onnxruntime-node ${raw.ort}`, threads: raw.threads });
      computeRounds.push({ round, results: raw.results });
      const best = raw.results.reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
      log(`[round ${round}/${options.runs}] ${RAW_ORT} ${HEAVY}: ${raw.results.map((r) => `batch ${r.batch} ${Math.round(r.rowsPerSec)} rows/s`).join(', ')}; best batch ${best.batch}`);
    }
    for (const c of cases) {
      const server = await c.start();
      if (!facts.has(c.info.id)) facts.set(c.info.id, server.facts);
      try {
        const target = doorTarget(server);
        await checkDoor(c.info.id, c.door, target);
        for (const connections of options.concurrency) {
          const scrape = server.hasMetrics ? () => scrapeServer(server.baseUrl, metricsModel(server), metricsProtocol(c.door)) : null;
          const redisUrl = server.redisUrl;
          const probe = async (): Promise<Probe> => {
            // threads first: the after-probe's scrape stays out of the window (the before-probe's one
            // /metrics request lands in it: negligible beside a run's requests)
            const cpu = cpuProbe(server.pid);
            const scraped = scrape === null ? null : await scrape();
            return { cpu, batches: scraped?.batches ?? null, outcomes: scraped?.outcomes ?? null, redis: redisUrl === undefined ? null : await redisFeatureReads(redisUrl) };
          };
          const measured = await loadDoor(c.door, target, { connections, duration: options.duration, warmup: options.warmup }, generators, probe);
          const { before, after } = measured;
          const result = { ...measured.result };
          const batching = before?.batches != null && after?.batches != null ? batchWindow(before.batches, after.batches) : null;
          const serverFailed = before?.outcomes != null && after?.outcomes != null ? failedInWindow(before.outcomes, after.outcomes) : null;
          const failedCount = Object.values(serverFailed ?? {}).reduce((a, b) => a + b, 0);
          if (blindToGrpcStatus(c.door) && failedCount > 0) {
            // h2load counted these as successes (HTTP 200): switchyard's counter says they failed
            result.ok2xx = Math.max(0, result.ok2xx - failedCount);
            result.non2xx += failedCount;
            result.reqPerSec = result.durationS > 0 ? result.ok2xx / result.durationS : 0;
            for (const [status, n] of Object.entries(serverFailed ?? {})) result.statusCodes[`grpc ${status}`] = n;
            log(`WARNING ${c.info.id} c=${connections}: switchyard failed ${failedCount} gRPC requests in the window (${JSON.stringify(serverFailed)}); h2load saw HTTP 200 for them: counted as non-2xx`);
          }
          const answered = result.ok2xx + result.non2xx;
          const redisCalls = before?.redis != null && after?.redis != null && answered > 0 ? (after.redis - before.redis) / answered : null;
          const cpu = accountCpu(server.pid, before?.cpu ?? null, after?.cpu ?? null, measured.generator, answered, cores);
          const record: RunRecord = { ...result, round, batching, redisCommandsPerRequest: redisCalls, cpu, serverFailed };
          const key = `${c.info.id}@${connections}`;
          runs.set(key, [...(runs.get(key) ?? []), record]);
          const batch = batching?.meanBatchSize != null ? `, mean batch ${batching.meanBatchSize.toFixed(1)}` : '';
          log(
            `[round ${round}/${options.runs}] ${c.info.id} c=${connections}: ${Math.round(result.reqPerSec)} req/s, ` +
              `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, ` +
              `errors ${result.errors}, non-2xx ${result.non2xx}${batch}${cpuLine(cpu)}`,
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
  const compute = withRawOrt ? computeSummary(RAW_ORT, HEAVY, computeRounds, cells, COMPUTE_AIM.caseId) : null;
  const rawOrtInfo: CaseInfo = {
    id: RAW_ORT,
    title: `raw ORT in process (${HEAVY})`,
    ceiling: null,
    description: `onnxruntime-node in process on ${HEAVY}, ORT's default session options, session.run() back to back at batch sizes ${RAW_ORT_BATCHES.join(', ')}: the compute ceiling`,
    facts: facts.get(RAW_ORT) ?? {},
  };
  const args = process.argv.slice(2);
  const report: BenchReport = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    machine,
    options: { ...options, out: path.relative(REPO_ROOT, options.out) || '.' },
    build,
    cases: [...(withRawOrt ? [rawOrtInfo] : []), ...cases.map((c) => ({ ...c.info, facts: facts.get(c.info.id) ?? {} }))],
    cells,
    ratios: ratioRows,
    ceilingRatios: vsCeiling,
    comparisons: compareRows,
    compute,
    aims: [...checkAims(ratioRows), ...comparisonAims(compareRows, COMPARISONS), ...(compute === null ? [] : computeAims(compute, COMPUTE_AIM.aim))],
  };

  log('');
  log(resultsTable(report));
  log('');
  log(ratiosTable(report));
  log('');
  log(ceilingTable(report));
  if (report.compute !== null) {
    log('');
    log(computeTable(report));
  }
  if (report.comparisons.length > 0) {
    log('');
    log(comparisonTable(report));
  }
  for (const a of report.aims) log(`aim: ${a.description}: ${a.value.toFixed(2)} (${a.target < 1 ? '≥' : a.strict ? '>' : '≥'} ${a.target}) ${a.met ? 'met' : 'NOT met'}`);

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
