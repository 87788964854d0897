/**
 * gRPC unary load with h2load (Debian package `nghttp2-client`, 1.52): every request is
 * `POST /inference.GRPCInferenceService/ModelInfer` over h2c with one body file, the framed
 * gRPC message (1 byte compressed flag 0, 4-byte big-endian length, then the encoded
 * ModelInferRequest), and the headers gRPC needs (`content-type: application/grpc`,
 * `te: trailers`). h2load cannot hold a bidirectional stream open, so ModelStreamInfer stays
 * on `switchyard bench`'s own generator (drive.ts).
 *
 * Concurrency n maps to `-c` connections × `-m` streams in flight on each: up to 4
 * connections (as many as divide n), the rest as streams — 1 → 1×1, 64 → 4×16, 256 → 4×64.
 * One thread (-t1): h2load spends ~0.05 of a core at 35k req/s on this machine, so one
 * thread is far from its limit and leaves the other core to the server (the report shows
 * its busiest thread in each run).
 *
 * h2load prints no latency percentiles; `--log-file` writes one line per request
 * (start µs since the epoch, HTTP status, µs until the end of the response), from which the
 * p50/p99 of the 2xx answers are computed here. HTTP status is not gRPC status: a gRPC error
 * comes as HTTP 200 with grpc-status ≠ 0 in the trailers, which h2load does not read, so the
 * body is checked with one real call first (grpc-check.ts) and switchyard's own request
 * counter is read over the run (run.ts). Warm-up is a separate h2load run: with
 * --warm-up-time, the requests in flight when it ends are logged with status 0.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireBinary, runGenerator } from './generator.js';
import { percentile, type GeneratorCpu, type LoadResult, type LoadSettings, type LoadTarget, type Measured } from './load.js';

/** gRPC's length-prefixed message: flag 0 (not compressed), big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** The headers every gRPC request carries (h2load adds :method POST because of -d). */
export const GRPC_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/grpc', te: 'trailers' };

/** `-c` × `-m` for `concurrency` requests in flight: up to 4 connections, the rest as streams. */
export function h2loadShape(concurrency: number): { clients: number; streams: number } {
  const clients = [4, 2, 1].find((c) => c <= concurrency && concurrency % c === 0) ?? 1;
  return { clients, streams: Math.max(1, Math.round(concurrency / clients)) };
}

export interface H2loadSummary {
  /** "finished in": the measured duration */
  seconds: number;
  requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
}

function duration(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) return NaN;
  return Number(m[1]) / (m[2] === 's' ? 1 : m[2] === 'ms' ? 1e3 : 1e6);
}

/** The lines of h2load's stdout the bench reads; throws, quoting it, when they are missing. */
export function parseH2loadOutput(stdout: string): H2loadSummary {
  const fin = /^finished in (\S+), /m.exec(stdout);
  const req = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(stdout);
  const st = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(stdout);
  if (fin === null || req === null || st === null) throw new Error(`h2load printed no summary ("finished in", "requests:", "status codes:"); its output:\n${stdout.trim().slice(-1500) || '(nothing)'}`);
  const n = req.slice(1).map(Number);
  return {
    seconds: duration(fin[1]),
    requests: { total: n[0], started: n[1], done: n[2], succeeded: n[3], failed: n[4], errored: n[5], timeout: n[6] },
    status: { '2xx': Number(st[1]), '3xx': Number(st[2]), '4xx': Number(st[3]), '5xx': Number(st[4]) },
  };
}

export interface H2loadLog {
  /** requests logged, by HTTP status ("0": no status, the stream ended without one) */
  byStatus: Record<string, number>;
  ok2xx: number;
  /** µs from request start to response end of the 2xx answers, ascending */
  okLatencyUs: Float64Array;
}

/** Reads h2load's --log-file: tab-separated start µs, status, µs until the response ended. */
export function parseH2loadLog(text: string): H2loadLog {
  const byStatus: Record<string, number> = {};
  const lat: number[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    if (cols.length < 3) throw new Error(`h2load log line is not "start<TAB>status<TAB>duration": ${JSON.stringify(line.slice(0, 100))}`);
    const status = Number(cols[1]);
    byStatus[cols[1]] = (byStatus[cols[1]] ?? 0) + 1;
    if (status >= 200 && status < 300) lat.push(Number(cols[2]));
  }
  const okLatencyUs = Float64Array.from(lat).sort();
  return { byStatus, ok2xx: lat.length, okLatencyUs };
}

/** h2load's summary and log in the bench's LoadResult shape (times in ms). */
export function h2loadResult(s: H2loadSummary, log: H2loadLog, connections: number): LoadResult {
  const logged = Object.values(log.byStatus).reduce((a, b) => a + b, 0);
  // a logged request without a status ended without a response: an error, not a refusal
  const noStatus = log.byStatus['0'] ?? 0;
  const ms = (p: number): number => percentile(log.okLatencyUs, p) / 1000;
  let sum = 0;
  for (const v of log.okLatencyUs) sum += v;
  return {
    connections,
    durationS: s.seconds,
    reqPerSec: s.seconds > 0 ? log.ok2xx / s.seconds : 0,
    ok2xx: log.ok2xx,
    non2xx: logged - log.ok2xx - noStatus,
    errors: s.requests.errored + s.requests.timeout + noStatus,
    timeouts: s.requests.timeout,
    latencyMs: {
      p50: ms(50),
      p90: ms(90),
      p99: ms(99),
      max: log.okLatencyUs.length === 0 ? NaN : log.okLatencyUs[log.okLatencyUs.length - 1] / 1000,
      mean: log.okLatencyUs.length === 0 ? NaN : sum / log.okLatencyUs.length / 1000,
    },
    statusCodes: { ...log.byStatus },
  };
}

/** The h2load binary, or an error that says how to install it. */
export function findH2load(): string {
  return requireBinary('h2load', 'nghttp2-client');
}

/** h2load's -t: one thread (see the module comment). */
const THREADS = 1;

async function fire(binary: string, bodyFile: string, logFile: string | null, target: LoadTarget, concurrency: number, seconds: number): Promise<{ summary: H2loadSummary; log: H2loadLog | null; cpu: GeneratorCpu }> {
  const { clients, streams } = h2loadShape(concurrency);
  const args = [
    '-t', String(THREADS),
    '-c', String(clients),
    '-m', String(streams),
    '-D', `${Math.max(1, Math.round(seconds * 1000))}ms`,
    '-d', bodyFile,
    ...Object.entries(target.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    ...(logFile === null ? [] : ['--log-file', logFile]),
    target.url,
  ];
  const run = await runGenerator({ name: `h2load -t${THREADS} -c${clients} -m${streams}`, binary, args, threads: THREADS, seconds });
  const tail = `${run.stderr}${run.stdout}`.trim().slice(-1500);
  if (run.code !== 0) throw new Error(`h2load ${args.join(' ')} exited with ${run.code ?? 'a signal'}: ${tail}`);
  const summary = parseH2loadOutput(run.stdout);
  if (summary.requests.done === 0) throw new Error(`h2load completed no request against ${target.url}: ${tail}`);
  return { summary, log: logFile === null ? null : parseH2loadLog(readFileSync(logFile, 'utf8')), cpu: run.cpu };
}

/**
 * Warm-up, then one measured h2load run with `settings.connections` requests in flight
 * (see h2loadShape); `target.body` is the framed message. `probe` runs after the warm-up and
 * after the measured run.
 */
export async function measureH2load<T>(binary: string, target: LoadTarget, settings: LoadSettings, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-h2load-'));
  try {
    const bodyFile = path.join(dir, 'body');
    const logFile = path.join(dir, 'requests.log');
    writeFileSync(bodyFile, target.body);
    if (settings.warmup > 0) await fire(binary, bodyFile, null, target, settings.connections, settings.warmup);
    const before = probe === null ? null : await probe();
    const { summary, log, cpu } = await fire(binary, bodyFile, logFile, target, settings.connections, settings.duration);
    const after = probe === null ? null : await probe();
    return { result: h2loadResult(summary, log!, settings.connections), before, after, generator: cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
