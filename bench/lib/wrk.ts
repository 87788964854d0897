/**
 * REST load with wrk (Debian package `wrk`, 4.1): closed loop, one request in flight per
 * connection, keep-alive, every request `POST <url>` with the same body and headers. A Lua
 * script sets the method and headers, reads the body from a file (binary bodies included:
 * io.open "rb" keeps every byte, and wrk sets Content-Length from the string's length), and
 * in `done()` prints one line `SWITCHYARD_WRK {json}` with the summary and the latency
 * percentiles (µs, as wrk keeps them), which `parseWrkOutput` reads.
 *
 * Threads (-t): wrk needs at least one connection per thread, so c=1 runs on one thread and
 * everything else on `threads` (2 by default: the bench machine has 2 cores, and one wrk
 * thread near 100 % of a core is a generator-bound run; generator.ts reports each run's
 * busiest thread, so a saturated one shows in the report).
 *
 * What wrk counts: `requests` = responses read (any status); `errors.status` = responses
 * with status > 399 ("Non-2xx or 3xx responses"); connect/read/write/timeout = socket errors.
 * Its latency histogram holds every response read, refused ones included (it cannot tell
 * them apart), so p50/p99 are of all answers; with no refused answer that is the 2xx ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireBinary, runGenerator } from './generator.js';
import type { GeneratorCpu, LoadResult, LoadSettings, LoadTarget, Measured } from './load.js';

/** The marker of the line the Lua `done()` prints. */
const MARKER = 'SWITCHYARD_WRK ';

/** seconds before wrk gives a request up (it counts it in errors.timeout) */
const TIMEOUT_S = 10;

export interface WrkSummary {
  durationUs: number;
  /** responses read, any status */
  requests: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { min: number; mean: number; stdev: number; max: number; p50: number; p90: number; p99: number; p999: number };
}

/** A Lua string literal of `s` (bytes outside printable ASCII as three-digit \ddd escapes). */
export function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** The Lua script: POST, `headers`, the body read from `bodyFile`, a JSON summary at the end. */
export function wrkScript(bodyFile: string, headers: Record<string, string>): string {
  const lines = [
    `local f = assert(io.open(${luaString(bodyFile)}, "rb"))`,
    'wrk.method = "POST"',
    'wrk.body = f:read("*a")',
    'f:close()',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
    'function done(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${MARKER}{"duration_us":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..`,
    `    '"latency_us":{"min":%d,"mean":%.3f,"stdev":%.3f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\\n',`,
    '    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency.min, latency.mean, latency.stdev, latency.max,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))',
    'end',
  ];
  return `${lines.join('\n')}\n`;
}

/** Reads the `done()` line out of wrk's stdout; throws, quoting the output, when there is none. */
export function parseWrkOutput(stdout: string): WrkSummary {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (line === undefined) throw new Error(`wrk printed no summary line (${MARKER.trim()} …); its output:\n${stdout.trim().slice(-1500) || '(nothing)'}`);
  const raw = JSON.parse(line.slice(MARKER.length)) as {
    duration_us: number;
    requests: number;
    bytes: number;
    errors: WrkSummary['errors'];
    latency_us: WrkSummary['latencyUs'];
  };
  return { durationUs: raw.duration_us, requests: raw.requests, bytes: raw.bytes, errors: raw.errors, latencyUs: raw.latency_us };
}

/** wrk's summary in the bench's LoadResult shape (times in ms). */
export function wrkResult(s: WrkSummary, connections: number): LoadResult {
  const seconds = s.durationUs / 1e6;
  const ok = Math.max(0, s.requests - s.errors.status);
  const ms = (us: number): number => (s.requests === 0 ? NaN : us / 1000);
  return {
    connections,
    durationS: seconds,
    reqPerSec: seconds > 0 ? ok / seconds : 0,
    ok2xx: ok,
    non2xx: s.errors.status,
    errors: s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    timeouts: s.errors.timeout,
    latencyMs: { p50: ms(s.latencyUs.p50), p90: ms(s.latencyUs.p90), p99: ms(s.latencyUs.p99), max: ms(s.latencyUs.max), mean: ms(s.latencyUs.mean) },
    statusCodes: { '< 400': ok, '≥ 400': s.errors.status },
  };
}

/** wrk's -t for `connections`: `threads`, but never more threads than connections. */
export function wrkThreads(connections: number, threads: number): number {
  return Math.max(1, Math.min(threads, connections));
}

/** The wrk binary, or an error that says how to install it. */
export function findWrk(): string {
  return requireBinary('wrk', 'wrk');
}

async function fire(binary: string, script: string, target: LoadTarget, connections: number, threads: number, seconds: number): Promise<{ summary: WrkSummary; cpu: GeneratorCpu }> {
  const t = wrkThreads(connections, threads);
  const args = ['-t', String(t), '-c', String(connections), '-d', `${seconds}s`, '--timeout', `${TIMEOUT_S}s`, '-s', script, target.url];
  const run = await runGenerator({ name: `wrk -t${t}`, binary, args, threads: t, seconds });
  if (run.code !== 0) throw new Error(`wrk ${args.join(' ')} exited with ${run.code ?? 'a signal'}: ${`${run.stderr}${run.stdout}`.trim().slice(-1500)}`);
  return { summary: parseWrkOutput(run.stdout), cpu: run.cpu };
}

/**
 * Warm-up, then one measured wrk run at `settings.connections` connections. `probe` runs
 * after the warm-up and after the measured run.
 */
export async function measureWrk<T>(binary: string, target: LoadTarget, settings: LoadSettings, threads: number, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-wrk-'));
  try {
    const bodyFile = path.join(dir, 'body');
    const script = path.join(dir, 'post.lua');
    writeFileSync(bodyFile, target.body);
    writeFileSync(script, wrkScript(bodyFile, target.headers));
    if (settings.warmup > 0) await fire(binary, script, target, settings.connections, threads, settings.warmup);
    const before = probe === null ? null : await probe();
    const { summary, cpu } = await fire(binary, script, target, settings.connections, threads, settings.duration);
    const after = probe === null ? null : await probe();
    return { result: wrkResult(summary, settings.connections), before, after, generator: cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
