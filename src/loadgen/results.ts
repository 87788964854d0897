/**
 * The shapes of a bench report (what --json writes) and how one measured phase becomes a
 * step's numbers. Latencies are in milliseconds; percentiles come from the HDR histogram.
 */
import type { PhaseResult } from './loops.js';
import type { ModelSignature, ServerInfo } from './metadata.js';
import type { BenchOptions, Protocol } from './options.js';
import type { ServerStats } from './server-metrics.js';

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  readonly min: number;
}

/** Open loop: how late requests went out compared with their due time (ms). */
export interface LatenessSummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface StepResult {
  readonly mode: 'concurrency' | 'rate';
  /** the concurrency, or the target rate in req/s */
  readonly value: number;
  /** "c=16" or "1000/s" */
  readonly label: string;
  readonly connections: number;
  /** closed loop: the concurrency; open loop: the in-flight cap */
  readonly slots: number;
  readonly durationS: number;
  /** requests sent (open loop: due) in the window */
  readonly requests: number;
  readonly successes: number;
  readonly failures: number;
  /** successes answered within the window, per second */
  readonly reqPerSec: number;
  /** of successful requests; null when none succeeded */
  readonly latencyMs: LatencySummary | null;
  /** failures by kind, e.g. {"http 503": 12, "timeout": 1} */
  readonly errors: Readonly<Record<string, number>>;
  /** one message per error kind */
  readonly errorSamples: Readonly<Record<string, string>>;
  readonly latenessMs: LatenessSummary | null;
  /** switchyard targets: what the server did in the window; null for other servers */
  readonly server: ServerStats | null;
  /** what generating the load cost this process over the measured window */
  readonly client: ClientLoad;
}

/**
 * The bench's own load over a measured phase. The generator is one event loop: when it was
 * busy nearly the whole window, requests waited for it, not for the server, and the step's
 * req/s is the client's limit (`limited`).
 */
export interface ClientLoad {
  /** CPU (user + system, all of this process's threads) per request sent, µs */
  readonly cpuUsPerRequest: number;
  /** CPU seconds per second of the window: 1 = one core */
  readonly cores: number;
  /** the event loop's utilisation over the window, 0…1 */
  readonly eventLoop: number;
  readonly limited: boolean;
}

/** Event loop utilisation from which a step counts as limited by the client. */
export const CLIENT_LIMIT_UTILISATION = 0.9;

export function clientLoad(cpuUs: number, eventLoop: number, seconds: number, requests: number): ClientLoad {
  return {
    cpuUsPerRequest: requests > 0 ? cpuUs / requests : 0,
    cores: seconds > 0 ? cpuUs / 1e6 / seconds : 0,
    eventLoop,
    limited: eventLoop >= CLIENT_LIMIT_UTILISATION,
  };
}

export interface RunResult {
  /** the setting and value this run's gateway had (sweeps); null without --sweep */
  readonly sweep: { readonly key: string; readonly value: number | string } | null;
  readonly url: string;
  readonly grpcAddress: string;
  readonly steps: readonly StepResult[];
}

export interface MachineInfo {
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly node: string;
}

export interface TargetInfo {
  readonly protocol: Protocol;
  readonly server: ServerInfo | null;
  readonly model: ModelSignature;
  /** true when /metrics has switchyard_ series (server-side stats are read) */
  readonly switchyard: boolean;
  /** what each request sent */
  readonly inputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[] }[];
}

export interface BenchReport {
  readonly tool: 'switchyard bench';
  readonly version: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  readonly target: TargetInfo;
  readonly runs: readonly RunResult[];
}

export function stepLabel(mode: 'concurrency' | 'rate', value: number): string {
  return mode === 'concurrency' ? `c=${value}` : `${value}/s`;
}

const ms = (us: number): number => us / 1000;

/** A step's numbers from its measured phase. */
export function summarise(
  phase: PhaseResult,
  step: { mode: 'concurrency' | 'rate'; value: number; connections: number; slots: number },
  server: ServerStats | null,
  client: ClientLoad,
): StepResult {
  const r = phase.recorder;
  const h = r.latency;
  const l = r.lateness;
  return {
    mode: step.mode,
    value: step.value,
    label: stepLabel(step.mode, step.value),
    connections: step.connections,
    slots: step.slots,
    durationS: phase.seconds,
    requests: r.requests,
    successes: r.successes,
    failures: r.failures,
    reqPerSec: phase.seconds > 0 ? r.successesInWindow / phase.seconds : 0,
    latencyMs:
      h.count === 0
        ? null
        : { p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max), mean: ms(h.mean), min: ms(h.min) },
    errors: Object.fromEntries(r.errors),
    errorSamples: Object.fromEntries(r.samples),
    latenessMs: step.mode === 'rate' && l.count > 0 ? { p50: ms(l.percentile(50)), p99: ms(l.percentile(99)), max: ms(l.max), mean: ms(l.mean) } : null,
    server,
    client,
  };
}
