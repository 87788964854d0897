/**
 * `npm run bench:perf-analyzer`: Triton's own load generator, perf_analyzer, against
 * switchyard serving the example repository — models `simple` and `tabular` and a route —
 * over HTTP (binary tensors, perf_analyzer's default), gRPC and gRPC streaming, closed loop
 * (`--concurrency-range`) and open loop (`--request-rate-range`). At every level
 * `switchyard bench` (the CLI) then measures the same server with the same requests and
 * connection count, and the report gives the ratio of the two: a cross-check of
 * switchyard bench's accounting by a generator nobody here wrote.
 *
 * Each round starts a fresh gateway; the two tools alternate which goes first per case, so
 * drift on the machine lands on both. While each tool runs, /proc says how much CPU it, the
 * server and everything else on the machine used per request: on a shared 2-core VM the
 * generator's own CPU is part of what it measures.
 *
 * Options: --runs 3, --interval 500 (perf_analyzer's -p, ms; switchyard bench measures 3
 * windows of it after 1 of warm-up), --concurrency-range 1:16:5, --request-rate-range
 * 1000:3000:1000, --stability 50 (-s: on a shared 2-core VM a neighbour's burst moves the
 * mean latency of a 500 ms window by more than perf_analyzer's default 10%, and it then
 * gives up on the level), --max-trials 8 (-r), --cases a,b, --out dir, --skip-cross-check,
 * --quick (1 round). perf_analyzer is found at .venv-compat/bin/perf_analyzer
 * (scripts/compat-venv.sh installs it) or $PERF_ANALYZER.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { costTable, costs, crossCheck, crossCheckTable, markdown, perfTable, type CaseInfo, type CaseRecord, type Report, type Tool, type ToolRun } from './lib/cross-check.js';
import { describeMachine, machineLine } from '../src/loadgen/machine.js';
import { findPerfAnalyzer, perfRange } from './lib/perf-analyzer.js';
import { ensureBuilt, prepareRepository, startSwitchyard, type RunningSwitchyard } from './lib/switchyard.js';
import { perfAnalyzerRun, runCli, switchyardBenchRun, type RunSettings } from './lib/tool-runs.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = path.join(REPO_ROOT, 'examples');
const ROUTE = 'checkout';
/** The README's weighted route (its `sticky` and `shadow` left out: perf_analyzer sends no user header). */
const ROUTE_SPEC = { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 90 }, { model: 'tabular', version: '2', weight: 10 }] };

type Door = 'http' | 'grpc' | 'grpc-stream';
const BENCH_PROTOCOL: Record<Door, string> = { http: 'http-binary', grpc: 'grpc', 'grpc-stream': 'grpc-stream' };
const DOOR_TEXT: Record<Door, string> = {
  http: 'HTTP, binary tensor extension in and out (perf_analyzer -i http; switchyard bench --protocol http-binary)',
  grpc: 'gRPC ModelInfer (-i grpc; --protocol grpc)',
  'grpc-stream': 'gRPC ModelStreamInfer (-i grpc --streaming; --protocol grpc-stream)',
};

function caseOf(model: string, door: Door, load: 'concurrency' | 'rate'): CaseInfo {
  const what = model === ROUTE ? `route ${ROUTE} (weighted 90/10 over tabular v1/v2)` : model;
  return {
    id: `${model === ROUTE ? 'route' : model}/${door}${load === 'rate' ? '/rate' : ''}`,
    model,
    protocol: door,
    load,
    benchProtocol: BENCH_PROTOCOL[door],
    description: `${what}, ${DOOR_TEXT[door]}, ${load === 'rate' ? 'open loop (--request-rate-range; switchyard bench --rate)' : 'closed loop (--concurrency-range; switchyard bench --concurrency)'}`,
  };
}

const CASES: readonly CaseInfo[] = [
  caseOf('simple', 'http', 'concurrency'),
  caseOf('simple', 'grpc', 'concurrency'),
  caseOf('simple', 'grpc-stream', 'concurrency'),
  caseOf('tabular', 'http', 'concurrency'),
  caseOf('tabular', 'grpc', 'concurrency'),
  caseOf('tabular', 'grpc-stream', 'concurrency'),
  caseOf(ROUTE, 'http', 'concurrency'),
  caseOf(ROUTE, 'grpc', 'concurrency'),
  caseOf('tabular', 'http', 'rate'),
  caseOf('tabular', 'grpc', 'rate'),
];

interface Options extends RunSettings {
  runs: number;
  intervalMs: number;
  concurrencyRange: string;
  rateRange: string;
  stability: number;
  maxTrials: number;
  cases: CaseInfo[];
  out: string;
  crossCheck: boolean;
  quick: boolean;
}

const USAGE =
  'usage: npm run bench:perf-analyzer -- [--runs 3] [--interval 500] [--concurrency-range 1:16:5] [--request-rate-range 1000:3000:1000] [--stability 50] [--max-trials 8] [--cases a,b] [--out dir] [--skip-cross-check] [--quick]';

class UsageError extends Error {}

/** perf_analyzer's range as the values it visits; a bad range is a usage error naming the flag. */
function rangeValues(flag: string, raw: string): number[] {
  try {
    return perfRange(raw);
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string' },
      interval: { type: 'string' },
      'concurrency-range': { type: 'string' },
      'request-rate-range': { type: 'string' },
      stability: { type: 'string' },
      'max-trials': { type: 'string' },
      cases: { type: 'string' },
      out: { type: 'string' },
      'skip-cross-check': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const whole = (flag: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive whole number, got "${raw}"`);
    return n;
  };
  const ids = CASES.map((c) => c.id);
  const chosen = values.cases === undefined ? ids : values.cases.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const c of chosen) if (!ids.includes(c)) throw new UsageError(`unknown case "${c}"; cases: ${ids.join(', ')}`);
  const options: Options = {
    repoRoot: REPO_ROOT,
    runs: whole('runs', values.runs ?? (quick ? '1' : '3')),
    intervalMs: whole('interval', values.interval ?? '500'),
    concurrencyRange: values['concurrency-range'] ?? '1:16:5',
    rateRange: values['request-rate-range'] ?? '1000:3000:1000',
    stability: whole('stability', values.stability ?? '50'),
    maxTrials: whole('max-trials', values['max-trials'] ?? '8'),
    cases: CASES.filter((c) => chosen.includes(c.id)),
    out: values.out ?? path.join(REPO_ROOT, 'bench', 'results'),
    crossCheck: values['skip-cross-check'] !== true,
    quick,
  };
  rangeValues('concurrency-range', options.concurrencyRange);
  rangeValues('request-rate-range', options.rateRange);
  return options;
}

/** The example config's model and feature settings (file paths made absolute) plus the route. */
function exampleSections(): Record<string, unknown> {
  const example = parseYaml(readFileSync(path.join(EXAMPLES, 'switchyard.yaml'), 'utf8')) as Record<string, unknown>;
  const features = structuredClone((example.features ?? {}) as { views?: Record<string, { file?: string }> });
  for (const view of Object.values(features.views ?? {})) if (typeof view.file === 'string') view.file = path.resolve(EXAMPLES, view.file);
  return { models: example.models ?? {}, features, routes: { [ROUTE]: ROUTE_SPEC } };
}

/** A little load on every model before the first case, so that no case measures a cold server. */
async function warmUp(gw: RunningSwitchyard, models: readonly string[]): Promise<void> {
  for (const m of new Set(models)) {
    await runCli(REPO_ROOT, ['bench', '--url', gw.baseUrl, '--grpc-url', gw.grpcAddress, '--model', m, '--protocol', 'http-binary', '--concurrency', '16', '--duration', '1s', '--warmup', '0s']);
  }
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function logRun(c: CaseInfo, r: ToolRun): void {
  const unit = c.load === 'concurrency' ? 'c=' : '';
  const levels = r.levels.map((l) => `${unit}${l.value}${c.load === 'rate' ? '/s' : ''} ${Math.round(l.inferPerSec)}/s p50 ${l.p50Ms.toFixed(2)} p99 ${l.p99Ms.toFixed(2)}`).join(' | ');
  const cpu = r.generatorCpuUsPerRequest === null ? '' : `; CPU µs/req generator ${Math.round(r.generatorCpuUsPerRequest)}, server ${Math.round(r.serverCpuUsPerRequest ?? NaN)}, others ${Math.round((r.otherCpuShare ?? NaN) * 100)}% of the cores`;
  log(`[round ${r.round}] ${c.id} ${r.tool}: ${levels || 'nothing measured'}${cpu}`);
  for (const m of r.missing) log(`    ${unit}${m.value}: ${m.why}`);
  if (r.error !== null) log(`    ${r.error.replace(/\n/g, '\n    ')}`);
}

function localDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exit(2);
  }
  const pa = findPerfAnalyzer(REPO_ROOT, process.env);
  const started = new Date();
  const machine = machineLine(describeMachine(REPO_ROOT));
  log(`machine: ${machine}`);
  log(`perf_analyzer ${pa.version} at ${path.relative(REPO_ROOT, pa.path) || pa.path}`);
  log(`build: ${ensureBuilt(REPO_ROOT)}`);
  log(`plan: ${o.runs} round(s) × ${o.cases.length} case(s); perf_analyzer windows of ${o.intervalMs} ms (-s ${o.stability}, -r ${o.maxTrials})${o.crossCheck ? ', then switchyard bench at each level' : ''}`);

  const records = new Map<string, ToolRun[]>(o.cases.map((c) => [c.id, []]));
  for (let round = 1; round <= o.runs; round++) {
    const repository = prepareRepository(path.join(EXAMPLES, 'models'), 'tabular', 'on');
    const gw = await startSwitchyard({ repoRoot: REPO_ROOT, repository, name: 'switchyard (example repository)', config: exampleSections() });
    try {
      await warmUp(gw, o.cases.map((c) => c.model));
      for (const [i, c] of o.cases.entries()) {
        const runs = records.get(c.id)!;
        // alternate which tool goes first; switchyard bench needs perf_analyzer's connection counts, so when it goes first it uses the previous round's
        const benchFirst = o.crossCheck && (round + i) % 2 === 0 && runs.some((r) => r.tool === 'perf_analyzer');
        const lastPa = (): ToolRun | null => [...runs].reverse().find((r) => r.tool === 'perf_analyzer') ?? null;
        const order: Tool[] = o.crossCheck ? (benchFirst ? ['switchyard bench', 'perf_analyzer'] : ['perf_analyzer', 'switchyard bench']) : ['perf_analyzer'];
        for (const tool of order) {
          const run = tool === 'perf_analyzer' ? await perfAnalyzerRun(pa, c, gw, o, round) : await switchyardBenchRun(c, gw, o, round, lastPa());
          runs.push(run);
          logRun(c, run);
        }
      }
    } finally {
      await gw.stop();
    }
  }

  const cases: CaseRecord[] = o.cases.map((info) => ({ info, runs: records.get(info.id) ?? [] }));
  const args = process.argv.slice(2);
  const report: Report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench:perf-analyzer${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    machine,
    perfAnalyzer: { path: path.relative(REPO_ROOT, pa.path) || pa.path, version: pa.version },
    settings: { runs: o.runs, 'interval ms': o.intervalMs, 'concurrency-range': o.concurrencyRange, 'request-rate-range': o.rateRange, stability: `${o.stability}%`, 'max-trials': o.maxTrials },
    cases,
    crossCheck: crossCheck(cases),
    costs: costs(cases),
  };
  log('');
  log(perfTable(report));
  if (o.crossCheck) {
    log('');
    log(crossCheckTable(report));
  }
  log('');
  log(costTable(report));
  mkdirSync(o.out, { recursive: true });
  const stem = path.join(o.out, `${localDate(started)}.perf-analyzer${o.quick ? '.quick' : ''}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${stem}.md`, markdown(report));
  log('');
  log(`wrote ${path.relative(process.cwd(), stem)}.json and .md`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:perf-analyzer failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
