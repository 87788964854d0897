/**
 * Triton's perf_analyzer as a load generator for the bench: find the binary, run it with a
 * `-f` CSV report, and read back per load level what it measured (throughput, latency
 * percentiles, its client/server latency breakdown) plus what it only prints (delayed
 * requests in rate mode, unstable levels, the server's inference/execution counts), the
 * TCP connections it held to the server while each level ran, and its CPU time.
 *
 * perf_analyzer comes from the `tritonclient` wheel (`tritonclient-<v>.data/data/bin/`);
 * scripts/compat-venv.sh puts it at .venv-compat/bin/perf_analyzer behind a wrapper that
 * sets LD_LIBRARY_PATH for its shared libraries. PERF_ANALYZER overrides the path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { killOnExit } from '../../src/loadgen/children.js';
import { childrenCpuSeconds, establishedTo, timedCommand } from './cpu.js';

export interface PerfAnalyzer {
  readonly path: string;
  /** e.g. "2.51.0" */
  readonly version: string;
}

/** Finds perf_analyzer (PERF_ANALYZER, else .venv-compat/bin/perf_analyzer) and reads its version. */
export function findPerfAnalyzer(repoRoot: string, env: NodeJS.ProcessEnv): PerfAnalyzer {
  const given = env.PERF_ANALYZER;
  const file = given !== undefined && given !== '' ? path.resolve(given) : path.join(repoRoot, '.venv-compat', 'bin', 'perf_analyzer');
  const how =
    'run scripts/compat-venv.sh (it installs the perf_analyzer of the tritonclient wheel into .venv-compat/), or set PERF_ANALYZER to a perf_analyzer binary';
  if (!existsSync(file)) throw new Error(`perf_analyzer not found at ${file}: ${how}`);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${file} is not executable: chmod +x it, or ${how}`);
  }
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /Perf Analyzer Version (\S+)/.exec(out);
  if (m === null) throw new Error(`${file} --version did not print "Perf Analyzer Version …" (got: ${out.trim().slice(0, 300) || r.error?.message || 'nothing'}); ${how}`);
  return { path: file, version: m[1] };
}

/**
 * The levels perf_analyzer visits for `--concurrency-range` / `--request-rate-range`
 * "start[:end[:step]]": start, start+step, … up to end (end itself when it is on the grid).
 */
export function perfRange(raw: string): number[] {
  const parts = raw.split(':').map(Number);
  const [start, end = start, step = 1] = parts;
  if (parts.length > 3 || parts.some((x) => !Number.isFinite(x) || x <= 0) || end < start) {
    throw new Error(`expected start[:end[:step]] with positive numbers and end >= start, got "${raw}"`);
  }
  const out: number[] = [];
  for (let i = 0; start + i * step <= end + 1e-9; i++) out.push(Math.round((start + i * step) * 1000) / 1000);
  return out;
}

/** One row of perf_analyzer's -f CSV. Times in µs, as perf_analyzer writes them. */
export interface PerfRow {
  /** the concurrency, or the request rate (req/s) */
  readonly value: number;
  readonly inferPerSec: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p95Us: number;
  readonly p99Us: number;
  /** --verbose-csv only; NaN otherwise */
  readonly avgUs: number;
  readonly clientSendUs: number;
  readonly networkServerUs: number;
  readonly serverQueueUs: number;
  readonly serverComputeInputUs: number;
  readonly serverComputeInferUs: number;
  readonly serverComputeOutputUs: number;
  readonly clientRecvUs: number;
}

const COLUMNS: Record<Exclude<keyof PerfRow, 'value'>, string> = {
  inferPerSec: 'Inferences/Second',
  p50Us: 'p50 latency',
  p90Us: 'p90 latency',
  p95Us: 'p95 latency',
  p99Us: 'p99 latency',
  avgUs: 'Avg latency',
  clientSendUs: 'Client Send',
  networkServerUs: 'Network+Server Send/Recv',
  serverQueueUs: 'Server Queue',
  serverComputeInputUs: 'Server Compute Input',
  serverComputeInferUs: 'Server Compute Infer',
  serverComputeOutputUs: 'Server Compute Output',
  clientRecvUs: 'Client Recv',
};
const REQUIRED = ['inferPerSec', 'p50Us', 'p99Us'] as const;

/**
 * Parses perf_analyzer's CSV: a header whose first column is "Concurrency" or "Request Rate",
 * then one row per level measured. Columns are found by name (their order and number change
 * with --verbose-csv and between versions); a missing optional column reads NaN.
 */
export function parsePerfCsv(text: string): { mode: 'concurrency' | 'rate'; rows: PerfRow[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('perf_analyzer wrote an empty CSV report');
  const header = lines[0].split(',').map((h) => h.trim());
  const first = header[0];
  const mode = first === 'Concurrency' ? 'concurrency' : first === 'Request Rate' ? 'rate' : null;
  if (mode === null) throw new Error(`perf_analyzer's CSV starts with "${first}", expected "Concurrency" or "Request Rate"`);
  const at = new Map(header.map((h, i) => [h, i]));
  for (const k of REQUIRED) {
    if (!at.has(COLUMNS[k])) throw new Error(`perf_analyzer's CSV has no "${COLUMNS[k]}" column (header: ${header.join(',')})`);
  }
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    const num = (name: string): number => {
      const i = at.get(name);
      return i === undefined || i >= cells.length ? NaN : Number(cells[i]);
    };
    const row: Record<string, number> = { value: Number(cells[0]) };
    for (const [k, name] of Object.entries(COLUMNS)) row[k] = num(name);
    return row as unknown as PerfRow;
  });
  return { mode, rows };
}

/** What perf_analyzer printed about one level (its stdout, not the CSV). */
export interface LevelNotes {
  value: number;
  /** rate mode: share of requests sent later than scheduled (its WARNING), else 0 */
  delayedPercent: number;
  /** it gave up on this level: no stable measurement within --max-trials windows */
  unstable: boolean;
  /** the server's statistics over the level's windows */
  serverInferences: number | null;
  serverExecutions: number | null;
  /** most TCP connections established to the server while the level ran (null without /proc) */
  connections: number | null;
}

/** Reads perf_analyzer's stdout line by line; `level()` is the level being measured. */
export class StdoutNotes {
  readonly levels: LevelNotes[] = [];
  private current: LevelNotes | null = null;

  level(): LevelNotes | null {
    return this.current;
  }

  line(text: string): void {
    const t = text.trim();
    let m = /^Request concurrency: (\d+)/.exec(t) ?? /^Request Rate: ([\d.]+) inference requests per second/.exec(t);
    if (m !== null) {
      this.current = { value: Number(m[1]), delayedPercent: 0, unstable: false, serverInferences: null, serverExecutions: null, connections: null };
      this.levels.push(this.current);
      return;
    }
    const c = this.current;
    if (c === null) return;
    if ((m = /([\d.]+)% of the requests were delayed/.exec(t)) !== null) c.delayedPercent = Number(m[1]);
    else if (/Failed to obtain stable measurement/.test(t)) c.unstable = true;
    else if ((m = /^Inference count: (\d+)/.exec(t)) !== null) c.serverInferences = Number(m[1]);
    else if ((m = /^Execution count: (\d+)/.exec(t)) !== null) c.serverExecutions = Number(m[1]);
  }
}

export interface PerfRun {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly mode: 'concurrency' | 'rate' | null;
  readonly rows: readonly PerfRow[];
  readonly levels: readonly LevelNotes[];
  /** CPU seconds perf_analyzer used (all threads); null without /proc */
  readonly cpuSeconds: number | null;
  readonly wallSeconds: number;
  /** the last lines it printed, for error messages */
  readonly tail: string;
  /** why there are no rows, when there are none */
  readonly error: string | null;
}

const SAMPLE_MS = 200;
const KEEP_LINES = 30;

/**
 * Runs perf_analyzer with `args` plus `-f <tmp csv>`, sampling every 200 ms the connections
 * established to `serverPort` (for the level it is on). Resolves when it exits; never rejects
 * on a failed run (the error is in the result).
 */
export function runPerfAnalyzer(pa: PerfAnalyzer, args: readonly string[], serverPort: number, timeoutMs: number): Promise<PerfRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-pa-'));
  const csv = path.join(dir, 'report.csv');
  const stat = path.join(dir, 'stat');
  const full = [...args, '-f', csv];
  const notes = new StdoutNotes();
  const recent: string[] = [];
  const started = performance.now();
  const child = spawn('sh', timedCommand(stat, pa.path, full), { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const remember = (line: string): void => {
    recent.push(line);
    if (recent.length > KEEP_LINES) recent.shift();
  };
  createInterface({ input: child.stdout! }).on('line', (l) => {
    remember(l);
    notes.line(l);
  });
  // "Failed to obtain stable measurement" comes on stderr, the rest on stdout
  createInterface({ input: child.stderr! }).on('line', (l) => {
    remember(l);
    notes.line(l);
  });
  const sampler = setInterval(() => {
    const level = notes.level();
    const n = establishedTo(serverPort);
    if (level !== null && n !== null) level.connections = Math.max(level.connections ?? 0, n);
  }, SAMPLE_MS);
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearInterval(sampler);
      clearTimeout(killer);
      const wallSeconds = (performance.now() - started) / 1000;
      let parsed: ReturnType<typeof parsePerfCsv> | null = null;
      let error: string | null = null;
      try {
        parsed = parsePerfCsv(readFileSync(csv, 'utf8'));
      } catch (e) {
        error = existsSync(csv) ? (e as Error).message : `perf_analyzer exited with ${code ?? 'a signal'} before writing its CSV report`;
      }
      let cpuSeconds: number | null = null;
      try {
        cpuSeconds = childrenCpuSeconds(readFileSync(stat, 'utf8'));
      } catch {
        // no /proc: no CPU numbers
      }
      rmSync(dir, { recursive: true, force: true });
      if (parsed !== null && parsed.rows.length === 0) error = `perf_analyzer measured no level (exit ${code})`;
      resolve({
        args: full.slice(0, -2),
        exitCode: code,
        mode: parsed?.mode ?? null,
        rows: parsed?.rows ?? [],
        levels: notes.levels,
        cpuSeconds,
        wallSeconds,
        tail: recent.join('\n'),
        error,
      });
    });
  });
}
