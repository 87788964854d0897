/**
 * Bench options from the command line, with environment variables as defaults:
 *   --duration <s>        BENCH_DURATION     measured seconds per run (10)
 *   --warmup <s>          BENCH_WARMUP       warm-up seconds before each measured run (2)
 *   --runs <n>            BENCH_RUNS         runs per case and concurrency; the median is reported (3)
 *   --concurrency <list>  BENCH_CONCURRENCY  connections, comma-separated (1,64,256)
 *   --cases <list>        BENCH_CASES        which cases to run (all)
 *   --out <dir>           BENCH_OUT          where results are written (bench/results)
 *   --wrk-threads <n>     BENCH_WRK_THREADS  wrk's -t for the REST cases, at most one per connection (2)
 *   --quick                                  smoke check: duration 3, runs 1 (results go to <date>.quick.*)
 * A flag wins over its environment variable; either wins over --quick.
 */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  duration: number;
  warmup: number;
  runs: number;
  concurrency: number[];
  cases: string[];
  /** the cases were named (--cases or BENCH_CASES), not the default "all" */
  casesGiven: boolean;
  out: string;
  quick: boolean;
  /** wrk's -t (capped by the connections: c=1 runs on one thread) */
  wrkThreads: number;
}

const USAGE = `usage: npm run bench -- [--duration 10] [--warmup 2] [--runs 3] [--concurrency 1,64,256] [--cases a,b] [--out dir] [--wrk-threads 2] [--quick]`;

export class OptionsError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
  }
}

function positive(name: string, raw: string, allowZero: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw new OptionsError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`);
  }
  return n;
}

function integer(name: string, raw: string): number {
  const n = positive(name, raw, false);
  if (!Number.isInteger(n)) throw new OptionsError(`--${name} must be a whole number, got "${raw}"`);
  return n;
}

function list(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, knownCases: readonly string[], defaultOut: string): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        warmup: { type: 'string' },
        runs: { type: 'string' },
        concurrency: { type: 'string' },
        cases: { type: 'string' },
        out: { type: 'string' },
        'wrk-threads': { type: 'string' },
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new OptionsError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) throw new OptionsError('');
  const quick = values.quick === true;
  const pick = (flag: string | undefined, envName: string, normal: string, fast: string): string =>
    flag ?? env[envName] ?? (quick ? fast : normal);

  const duration = positive('duration', pick(values.duration, 'BENCH_DURATION', '10', '3'), false);
  const warmup = positive('warmup', pick(values.warmup, 'BENCH_WARMUP', '2', '2'), true);
  const runs = integer('runs', pick(values.runs, 'BENCH_RUNS', '3', '1'));
  const concurrency = list(pick(values.concurrency, 'BENCH_CONCURRENCY', '1,64,256', '1,64,256')).map((c) => integer('concurrency', c));
  if (concurrency.length === 0) throw new OptionsError('--concurrency needs at least one value');
  const cases = values.cases ?? env.BENCH_CASES;
  const chosen = cases === undefined ? [...knownCases] : list(cases);
  for (const c of chosen) {
    if (!knownCases.includes(c)) throw new OptionsError(`unknown case "${c}"; cases: ${knownCases.join(', ')}`);
  }
  const wrkThreads = integer('wrk-threads', pick(values['wrk-threads'], 'BENCH_WRK_THREADS', '2', '2'));
  return { duration, warmup, runs, concurrency, cases: chosen, casesGiven: cases !== undefined, out: values.out ?? env.BENCH_OUT ?? defaultOut, quick, wrkThreads };
}
