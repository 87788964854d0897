/**
 * The two load generators of the perf_analyzer bench, each run over one case against a
 * running gateway: Triton's perf_analyzer (bench/lib/perf-analyzer.ts runs it) and
 * `switchyard bench` as a user runs it (`node bin/switchyard.js bench …`). Both return a
 * ToolRun: their numbers per level, the levels they could not measure and why, and where the
 * CPU went while they ran (/proc: the generator, the server, everything else).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killOnExit } from '../../src/loadgen/children.js';
import { childrenCpuSeconds, machineTimes, processCpuSeconds, timedCommand } from './cpu.js';
import type { CaseInfo, LevelResult, ToolRun } from './cross-check.js';
import { perfRange, runPerfAnalyzer, type PerfAnalyzer, type PerfRun } from './perf-analyzer.js';
import type { RunningSwitchyard } from './switchyard.js';

/** perf_analyzer's --max-threads in rate mode, and switchyard bench's HTTP connections there */
export const RATE_THREADS = 16;

/** What both tools are run with (the bench's options). */
export interface RunSettings {
  readonly repoRoot: string;
  /** perf_analyzer's -p; switchyard bench measures 3 of these after a warm-up of 1 */
  readonly intervalMs: number;
  readonly stability: number;
  readonly maxTrials: number;
  readonly concurrencyRange: string;
  readonly rateRange: string;
}

/** The levels of a case: its concurrencies or its rates. */
export function levelsOf(c: CaseInfo, o: RunSettings): number[] {
  return perfRange(c.load === 'concurrency' ? o.concurrencyRange : o.rateRange);
}

/** Successful requests the server has counted for `model` (a route: the sum over its targets). */
async function servedRequests(baseUrl: string, model: string): Promise<number | null> {
  try {
    const res = await fetch(`${baseUrl}/v2/models/${model}/stats`);
    if (!res.ok) return null;
    const body = (await res.json()) as { model_stats?: { inference_stats?: { success?: { count?: number } } }[] };
    let n = 0;
    for (const s of body.model_stats ?? []) n += Number(s.inference_stats?.success?.count ?? 0);
    return n;
  } catch {
    return null;
  }
}

/** Where the CPU went between two snapshots: the server's process, the machine, this process. */
interface CpuSnapshot {
  server: number | null;
  machine: ReturnType<typeof machineTimes>;
  self: NodeJS.CpuUsage;
  served: number | null;
}

async function snapshot(gw: RunningSwitchyard, model: string): Promise<CpuSnapshot> {
  return { served: await servedRequests(gw.baseUrl, model), server: processCpuSeconds(gw.server.pid), machine: machineTimes(), self: process.cpuUsage() };
}

function accounting(before: CpuSnapshot, after: CpuSnapshot, generatorCpu: number | null): Pick<ToolRun, 'serverRequests' | 'generatorCpuUsPerRequest' | 'serverCpuUsPerRequest' | 'otherCpuShare'> {
  const served = before.served !== null && after.served !== null ? after.served - before.served : null;
  const server = before.server !== null && after.server !== null ? after.server - before.server : null;
  const perRequest = (s: number | null): number | null => (s !== null && served !== null && served > 0 ? (s * 1e6) / served : null);
  const selfUsage = process.cpuUsage(before.self);
  const self = (selfUsage.user + selfUsage.system) / 1e6;
  let other: number | null = null;
  if (before.machine !== null && after.machine !== null && server !== null && generatorCpu !== null) {
    const total = after.machine.total - before.machine.total;
    const busy = after.machine.busy - before.machine.busy;
    if (total > 0) other = Math.max(0, (busy - server - generatorCpu - self) / total);
  }
  return { serverRequests: served, generatorCpuUsPerRequest: perRequest(generatorCpu), serverCpuUsPerRequest: perRequest(server), otherCpuShare: other };
}

function paArgs(c: CaseInfo, gw: RunningSwitchyard, o: RunSettings, range: string): string[] {
  const http = c.protocol === 'http';
  const address = http ? gw.baseUrl.replace(/^http:\/\//, '') : gw.grpcAddress;
  return [
    '-m', c.model,
    '-u', address,
    '-i', http ? 'http' : 'grpc',
    ...(c.protocol === 'grpc-stream' ? ['--streaming'] : []),
    // rate mode: one thread per request in flight, as in the closed loop (its default of 4 falls behind at 3000/s)
    ...(c.load === 'concurrency' ? ['--concurrency-range', range] : ['--request-rate-range', range, '--max-threads', String(RATE_THREADS)]),
    '-p', String(o.intervalMs),
    '-s', String(o.stability),
    '-r', String(o.maxTrials),
    '--verbose-csv',
  ];
}

function paLevels(run: PerfRun): LevelResult[] {
  return run.rows.map((row) => {
    const n = run.levels.find((l) => l.value === row.value) ?? null;
    const batch = n?.serverInferences != null && n.serverExecutions != null && n.serverExecutions > 0 ? n.serverInferences / n.serverExecutions : null;
    return {
      value: row.value,
      inferPerSec: row.inferPerSec,
      p50Ms: row.p50Us / 1000,
      p90Ms: row.p90Us / 1000,
      p99Ms: row.p99Us / 1000,
      meanMs: row.avgUs / 1000,
      serverQueueMs: Number.isFinite(row.serverQueueUs) ? row.serverQueueUs / 1000 : null,
      serverComputeMs: Number.isFinite(row.serverComputeInferUs) ? (row.serverComputeInputUs + row.serverComputeInferUs + row.serverComputeOutputUs) / 1000 : null,
      meanBatch: batch,
      connections: n?.connections ?? null,
      notes: n !== null && n.delayedPercent > 0 ? [`${n.delayedPercent}% of requests sent late`] : [],
    };
  });
}

/** The range string that visits `values` (an arithmetic run, as perfRange gives). */
function rangeOf(values: readonly number[]): string {
  return values.length === 1 ? String(values[0]) : `${values[0]}:${values[values.length - 1]}:${Math.round((values[1] - values[0]) * 1000) / 1000}`;
}

/**
 * perf_analyzer over the case's range. It ends its sweep at the first level it cannot
 * measure stably (a neighbour's burst on a shared VM is enough), so the levels from there
 * on get one more run of their own.
 */
export async function perfAnalyzerRun(pa: PerfAnalyzer, c: CaseInfo, gw: RunningSwitchyard, o: RunSettings, round: number): Promise<ToolRun> {
  const wanted = levelsOf(c, o);
  const port = Number((c.protocol === 'http' ? gw.baseUrl : `x://${gw.grpcAddress}`).split(':').pop());
  const before = await snapshot(gw, c.model);
  const commands: string[] = [];
  const levels: LevelResult[] = [];
  const why = new Map<number, string>();
  let cpu: number | null = 0;
  let wall = 0;
  let error: string | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const todo = wanted.filter((v) => !levels.some((l) => l.value === v));
    if (todo.length === 0) break;
    const args = paArgs(c, gw, o, rangeOf(todo));
    commands.push(`perf_analyzer ${args.join(' ')} -f <csv>`);
    const run = await runPerfAnalyzer(pa, args, port, todo.length * o.maxTrials * o.intervalMs * 3 + 60_000);
    cpu = cpu === null || run.cpuSeconds === null ? null : cpu + run.cpuSeconds;
    wall += run.wallSeconds;
    levels.push(...paLevels(run));
    const last = run.tail.split('\n').filter((l) => l.trim() !== '').slice(-2).join(' / ');
    for (const v of todo) {
      if (levels.some((l) => l.value === v)) continue;
      const n = run.levels.find((l) => l.value === v);
      why.set(
        v,
        n?.unstable
          ? `no stable measurement within ${o.maxTrials} windows of ${o.intervalMs} ms (±${o.stability}%)`
          : n === undefined && run.levels.some((l) => l.unstable)
            ? 'not reached: perf_analyzer stops its sweep at the first level it cannot measure stably'
            : `not measured (perf_analyzer exited ${run.exitCode ?? 'on a signal'}; its last lines: ${last})`,
      );
    }
    if (run.rows.length === 0) {
      // a crash or a refusal, not instability: running it again would say the same
      error = `${run.error ?? 'no level measured'}\n${run.tail.split('\n').slice(-8).join('\n')}`;
      break;
    }
  }
  const after = await snapshot(gw, c.model);
  levels.sort((a, b) => a.value - b.value);
  const missing = wanted.filter((v) => !levels.some((l) => l.value === v)).map((v) => ({ value: v, why: why.get(v) ?? 'not measured' }));
  return { tool: 'perf_analyzer', round, commands, levels, missing, wallSeconds: wall, ...accounting(before, after, cpu), error };
}

interface CliResult {
  code: number | null;
  cpuSeconds: number | null;
  stderr: string;
}

/** Runs `node bin/switchyard.js <args>` and resolves with its exit code and CPU seconds. */
export function runCli(repoRoot: string, args: readonly string[]): Promise<CliResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-cli-'));
  const stat = path.join(dir, 'stat');
  const child = spawn('sh', timedCommand(stat, process.execPath, [path.join(repoRoot, 'bin', 'switchyard.js'), ...args]), { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      let cpuSeconds: number | null = null;
      try {
        cpuSeconds = childrenCpuSeconds(readFileSync(stat, 'utf8'));
      } catch {
        // no /proc
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, cpuSeconds, stderr });
    });
  });
}

interface BenchStep {
  value: number;
  connections: number;
  reqPerSec: number;
  successes: number;
  failures: number;
  errors: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; mean: number } | null;
  latenessMs: { p99: number } | null;
  server: { queueMs: number | null; computeMs: number | null; meanBatchSize: number | null } | null;
}

/**
 * The connections switchyard bench opens at one level: over HTTP one per request in flight
 * (closed loop; both tools' default) or perf_analyzer's thread count (rate mode); over gRPC
 * as many channels as perf_analyzer held connections at that level (its client shares one
 * channel among up to 6 of its threads); null = switchyard bench's default.
 */
function benchConnections(c: CaseInfo, value: number, pa: ToolRun | null): number | null {
  if (c.protocol === 'http') return c.load === 'concurrency' ? value : RATE_THREADS;
  return pa?.levels.find((l) => l.value === value)?.connections ?? null;
}

/**
 * switchyard bench at each level of the range, with the same requests (random data, the
 * model's shapes at batch 1) and connection counts; levels that need the same connection
 * count share one CLI run. Its window is 3 of perf_analyzer's (what perf_analyzer reports
 * is the last 3 windows), after a warm-up of one.
 */
export async function switchyardBenchRun(c: CaseInfo, gw: RunningSwitchyard, o: RunSettings, round: number, paRun: ToolRun | null): Promise<ToolRun> {
  const wanted = levelsOf(c, o);
  const groups = new Map<string, { connections: number | null; values: number[] }>();
  for (const v of wanted) {
    const connections = benchConnections(c, v, paRun);
    const key = c.protocol === 'http' && c.load === 'concurrency' ? 'per-level' : String(connections);
    groups.set(key, { connections: key === 'per-level' ? null : connections, values: [...(groups.get(key)?.values ?? []), v] });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-pa-bench-'));
  const levels: LevelResult[] = [];
  const missing: { value: number; why: string }[] = [];
  const commands: string[] = [];
  let cpu: number | null = 0;
  const started = performance.now();
  const before = await snapshot(gw, c.model);
  try {
    for (const [i, group] of [...groups.values()].entries()) {
      const file = path.join(dir, `${i}.json`);
      const args = [
        'bench', '--url', gw.baseUrl, '--grpc-url', gw.grpcAddress, '--model', c.model, '--protocol', c.benchProtocol,
        c.load === 'concurrency' ? '--concurrency' : '--rate', group.values.join(','),
        ...(group.connections !== null ? ['--connections', String(group.connections)] : []),
        '--duration', `${3 * o.intervalMs}ms`, '--warmup', `${o.intervalMs}ms`, '--json', file,
      ];
      commands.push(`switchyard ${args.join(' ').replace(file, '<json>')}`);
      const r = await runCli(o.repoRoot, args);
      cpu = cpu === null || r.cpuSeconds === null ? null : cpu + r.cpuSeconds;
      let steps: BenchStep[];
      try {
        steps = (JSON.parse(readFileSync(file, 'utf8')) as { runs: { steps: BenchStep[] }[] }).runs[0].steps;
      } catch {
        for (const value of group.values) missing.push({ value, why: `switchyard bench exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}` });
        continue;
      }
      for (const step of steps) levels.push(...benchLevel(step, missing));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const after = await snapshot(gw, c.model);
  levels.sort((a, b) => a.value - b.value);
  return { tool: 'switchyard bench', round, commands, levels, missing, wallSeconds: (performance.now() - started) / 1000, ...accounting(before, after, cpu), error: null };
}

/** One step of switchyard bench's JSON report as a level (none, and a `missing` entry, when nothing succeeded). */
function benchLevel(step: BenchStep, missing: { value: number; why: string }[]): LevelResult[] {
  if (step.latencyMs === null) {
    missing.push({ value: step.value, why: `no successful answer (${JSON.stringify(step.errors)})` });
    return [];
  }
  const notes: string[] = [];
  if (step.failures > 0) notes.push(`${step.failures} failed (${Object.entries(step.errors).map(([k, n]) => `${k}: ${n}`).join(', ')})`);
  if (step.latenessMs !== null && step.latenessMs.p99 > 1) notes.push(`sends up to ${step.latenessMs.p99.toFixed(1)} ms late (p99)`);
  return [
    {
      value: step.value,
      inferPerSec: step.reqPerSec,
      p50Ms: step.latencyMs.p50,
      p90Ms: step.latencyMs.p90,
      p99Ms: step.latencyMs.p99,
      meanMs: step.latencyMs.mean,
      serverQueueMs: step.server?.queueMs ?? null,
      serverComputeMs: step.server?.computeMs ?? null,
      meanBatch: step.server?.meanBatchSize ?? null,
      connections: step.connections,
      notes,
    },
  ];
}
