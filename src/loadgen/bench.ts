/**
 * One `switchyard bench`: check the target (reachable, model there, the request it builds
 * accepted), then for each step (concurrency or rate) a warm-up phase, a /metrics scrape, the
 * measured phase and another scrape. With --sweep, the whole run is repeated against a local
 * gateway restarted with each value of the setting.
 */
import { performance } from 'node:perf_hooks';
import { SERVER_VERSION } from '../protocol/index.js';
import type { Driver, Sink } from './drivers/index.js';
import { BenchError } from './errors.js';
import { startLocalGateway } from './local-gateway.js';
import { ClosedLoop, OpenLoop, type PhaseResult } from './loops.js';
import { machineInfo } from './machine.js';
import { fetchGrpc, fetchModelHttp, fetchServerHttp, type ModelSignature, type ServerInfo } from './metadata.js';
import type { BenchOptions } from './options.js';
import { Progress, type ProgressOutput } from './progress.js';
import { clientLoad, summarise, stepLabel, type BenchReport, type RunResult, type StepResult, type TargetInfo } from './results.js';
import { scrapeServer, serverWindow } from './server-metrics.js';
import { driverFactory, stepShape, type DriverFactory, type Endpoints } from './target.js';
import { buildFromFile, buildFromMetadata, type RequestContent } from './tensors.js';

export interface BenchHooks {
  /** where the live progress line goes (stderr); null = none */
  progress?: ProgressOutput | null;
  /** called after each step with its numbers */
  onStep?: (step: StepResult, run: { sweep: RunResult['sweep'] }) => void;
}

const PROBE_TIMEOUT_MS = 10_000;

/** Sends one request and waits for its answer: the target must accept what the bench built. */
async function probe(factory: DriverFactory, where: string): Promise<void> {
  const driver = factory(1);
  await driver.open();
  try {
    const answer = await new Promise<{ error: string | null; detail: string | null }>((resolve) => {
      const timer = setTimeout(() => resolve({ error: 'timeout', detail: `no answer within ${PROBE_TIMEOUT_MS / 1000} s` }), PROBE_TIMEOUT_MS);
      const sink: Sink = {
        id: 0,
        slots: 1,
        done(_slot, error, detail) {
          clearTimeout(timer);
          resolve({ error, detail });
        },
      };
      driver.send(sink, 0);
    });
    if (answer.error !== null) {
      throw new BenchError(
        `the first request to ${where} failed (${answer.error}): ${answer.detail ?? ''}`.trim() + '; check --shape, --batch-size or --input-data (or the server)',
      );
    }
  } finally {
    await driver.close();
  }
}

interface Prepared {
  readonly target: TargetInfo;
  readonly factory: DriverFactory;
}

/** Reads the target's metadata, builds and encodes the request, checks it is accepted. */
async function prepare(options: BenchOptions, endpoints: Endpoints, fileContent: RequestContent | null): Promise<Prepared> {
  const grpc = options.protocol === 'grpc' || options.protocol === 'grpc-stream';
  let model: ModelSignature;
  let server: ServerInfo | null;
  if (grpc) ({ model, server } = await fetchGrpc(endpoints.grpcAddress, options.model, options.modelVersion));
  else {
    model = await fetchModelHttp(endpoints.url, options.model, options.modelVersion);
    server = await fetchServerHttp(endpoints.url);
  }
  const content = fileContent ?? buildFromMetadata(model, options);
  const factory = driverFactory(options.protocol, endpoints, options.model, options.modelVersion, content);
  await probe(factory, grpc ? `grpc://${endpoints.grpcAddress}` : endpoints.url);
  const switchyard = (await scrapeServer(endpoints.url, options.model, options.modelVersion)) !== null;
  return {
    factory,
    target: {
      protocol: options.protocol,
      server,
      model,
      switchyard,
      inputs: content.tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    },
  };
}

/** Runs one phase with the progress line on. */
async function phase(loop: ClosedLoop | OpenLoop, label: string, durationMs: number, progress: Progress): Promise<PhaseResult> {
  progress.start({ label, durationMs, elapsedMs: () => loop.elapsedMs(), recorder: loop.recorder });
  try {
    return await loop.run();
  } finally {
    progress.stop();
  }
}

async function runStep(options: BenchOptions, endpoints: Endpoints, prepared: Prepared, value: number, prefix: string, progress: Progress): Promise<StepResult> {
  const { mode } = options.plan;
  const shape = stepShape(options.protocol, options.plan, value, options);
  const driver: Driver = prepared.factory(shape.connections);
  const label = `${prefix}${stepLabel(mode, value)}`;
  const loop = (ms: number): ClosedLoop | OpenLoop =>
    mode === 'concurrency' ? new ClosedLoop(driver, value, ms, options.timeoutMs) : new OpenLoop(driver, value, ms, shape.slots, options.timeoutMs);
  await driver.open();
  try {
    if (options.warmupMs > 0) {
      await phase(loop(options.warmupMs), `${label} warm-up`, options.warmupMs, progress);
    }
    const scrape = (): ReturnType<typeof scrapeServer> => (prepared.target.switchyard ? scrapeServer(endpoints.url, options.model, options.modelVersion) : Promise.resolve(null));
    const before = await scrape();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const result = await phase(loop(options.durationMs), label, options.durationMs, progress);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const cpu = process.cpuUsage(cpu0);
    const client = clientLoad(cpu.user + cpu.system, elu, result.seconds, result.recorder.requests);
    const after = await scrape();
    return summarise(result, { mode, value, connections: shape.connections, slots: shape.slots }, before !== null && after !== null ? serverWindow(before, after) : null, client);
  } finally {
    await driver.close();
  }
}

async function runSteps(options: BenchOptions, endpoints: Endpoints, prepared: Prepared, sweep: RunResult['sweep'], progress: Progress, hooks: BenchHooks): Promise<RunResult> {
  const steps: StepResult[] = [];
  const prefix = sweep === null ? '' : `${sweep.key}=${sweep.value} `;
  for (const value of options.plan.values) {
    const step = await runStep(options, endpoints, prepared, value, prefix, progress);
    steps.push(step);
    hooks.onStep?.(step, { sweep });
  }
  return { sweep, url: endpoints.url, grpcAddress: endpoints.grpcAddress, steps };
}

/** Runs the whole bench; BenchError / BenchUsageError before any load when the target cannot be used. */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const progress = new Progress(hooks.progress ?? null);
  const fileContent = options.inputData.kind === 'file' ? buildFromFile(options.inputData.path) : null;
  const runs: RunResult[] = [];
  let target: TargetInfo | null = null;
  if (options.sweep === null) {
    const endpoints = { url: options.url, grpcAddress: options.grpcAddress };
    const prepared = await prepare(options, endpoints, fileContent);
    target = prepared.target;
    runs.push(await runSteps(options, endpoints, prepared, null, progress, hooks));
  } else {
    const { key, values, config } = options.sweep;
    for (const value of values) {
      progress.note(`starting a local gateway from ${config} with ${key}=${value}`);
      const gw = await startLocalGateway(config, options.model, key, value);
      try {
        const endpoints = { url: gw.url, grpcAddress: gw.grpcAddress };
        const prepared = await prepare(options, endpoints, fileContent);
        target ??= prepared.target;
        runs.push(await runSteps(options, endpoints, prepared, { key, value }, progress, hooks));
      } finally {
        await gw.stop();
      }
    }
  }
  return {
    tool: 'switchyard bench',
    version: SERVER_VERSION,
    startedAt,
    finishedAt: new Date().toISOString(),
    options,
    machine: machineInfo(),
    target: target as TargetInfo,
    runs,
  };
}
