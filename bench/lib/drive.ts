/**
 * The bench suite's load through `switchyard bench`'s own generators (src/loadgen), for the
 * doors no C generator speaks: gRPC ModelStreamInfer (h2load cannot hold a bidirectional
 * stream) and WebSocket. One closed-loop warm-up phase, a probe, the measured phase, another
 * probe, with the phase's numbers in load.ts's LoadResult shape so that wrk and h2load runs
 * and these sit in one table. The generator is this process: its CPU over the measured phase
 * (process.cpuUsage) and its main thread's share of a core (where the event loop runs every
 * driver) are reported as the generator's.
 *
 * Mapping: `ok2xx` = successes answered inside the window (what req/s counts); `non2xx` =
 * answers the server refused (`http <status>`, `grpc <STATUS>` other than UNAVAILABLE and
 * DEADLINE_EXCEEDED, `ws <code>`, `grpc-stream error`); `timeouts` = no answer within the
 * timeout (or DEADLINE_EXCEEDED); `errors` = everything else (connection failures, closed
 * sockets, UNAVAILABLE) plus the timeouts, as wrk counts them.
 */
import { Tensor } from '../../src/core/index.js';
import { ClosedLoop, driverFactory, type Protocol } from '../../src/loadgen/index.js';
import type { PhaseResult } from '../../src/loadgen/index.js';
import type { GeneratorCpu, LoadResult, LoadSettings, Measured } from './load.js';
import { snapshotThreads, splitThreads } from './threads.js';

export interface DriveTarget {
  protocol: Protocol;
  /** HTTP base URL (REST, WebSocket) */
  url: string;
  /** host:port (gRPC) */
  grpcAddress: string;
  model: string;
  /** one FP32 row per request */
  input: { name: string; row: readonly number[] };
}

const TIMEOUT_MS = 10_000;

function refused(kind: string): boolean {
  if (kind.startsWith('http ') || kind.startsWith('ws ') || kind === 'grpc-stream error') return !kind.startsWith('ws closed');
  return kind.startsWith('grpc ') && kind !== 'grpc UNAVAILABLE' && kind !== 'grpc DEADLINE_EXCEEDED';
}

export function toLoadResult(phase: PhaseResult, connections: number): LoadResult {
  const r = phase.recorder;
  let non2xx = 0;
  let timeouts = 0;
  let errors = 0;
  const statusCodes: Record<string, number> = { ok: r.successes };
  for (const [kind, n] of r.errors) {
    statusCodes[kind] = n;
    if (refused(kind)) non2xx += n;
    else {
      errors += n;
      if (kind === 'timeout' || kind === 'grpc DEADLINE_EXCEEDED') timeouts += n;
    }
  }
  const ms = (v: number): number => (r.latency.count === 0 ? NaN : v / 1000);
  return {
    connections,
    durationS: phase.seconds,
    reqPerSec: r.successesInWindow / phase.seconds,
    ok2xx: r.successesInWindow,
    non2xx,
    errors,
    timeouts,
    latencyMs: {
      p50: r.percentileMs(50),
      p90: r.percentileMs(90),
      p99: r.percentileMs(99),
      max: ms(r.latency.max),
      mean: ms(r.latency.mean),
    },
    statusCodes,
  };
}

/**
 * Warm-up, then one measured closed-loop run with `settings.connections` requests in flight:
 * over HTTP one connection per request in flight (as wrk), over gRPC one channel or
 * stream and over WebSocket one socket (as a client application holds one).
 */
export async function drive<T>(target: DriveTarget, settings: LoadSettings, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  const row = Float32Array.from(target.input.row);
  const content = { tensors: [new Tensor(target.input.name, 'FP32', [1, row.length], row)], outputs: [], fileBody: null };
  const factory = driverFactory(target.protocol, { url: target.url, grpcAddress: target.grpcAddress }, target.model, null, content);
  const http = target.protocol === 'http' || target.protocol === 'http-binary';
  const driver = factory(http ? settings.connections : 1);
  await driver.open();
  try {
    if (settings.warmup > 0) await new ClosedLoop(driver, settings.connections, settings.warmup * 1000, TIMEOUT_MS).run();
    const before = probe === null ? null : await probe();
    const threads = snapshotThreads(process.pid, false);
    const usage = process.cpuUsage();
    const started = performance.now();
    const phase = await new ClosedLoop(driver, settings.connections, settings.duration * 1000, TIMEOUT_MS).run();
    const wallSeconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(usage);
    const threadsAfter = snapshotThreads(process.pid, false);
    const main = threads !== null && threadsAfter !== null ? splitThreads(process.pid, threads, threadsAfter).main : null;
    const generator: GeneratorCpu = {
      name: 'bench process (src/loadgen)',
      threads: 1,
      seconds: (used.user + used.system) / 1e6,
      wallSeconds,
      busiestThread: main === null || wallSeconds <= 0 ? null : main / wallSeconds,
    };
    const after = probe === null ? null : await probe();
    return { result: toLoadResult(phase, settings.connections), before, after, generator };
  } finally {
    await driver.close();
  }
}
