/**
 * `switchyard bench …`: load-test any KServe v2 server (switchyard, Triton, KServe) and
 * report throughput and latency percentiles per step (src/loadgen does the work).
 *
 * Exit codes: 0 done; 1 some step got no successful answer, or a report file could not be
 * written; 2 a bad option (message and usage) or a target that cannot be measured
 * (unreachable, missing model, refuses the request), reported before any load runs.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BenchError, BenchUsageError, DEFAULTS, PROTOCOLS, formatJson, formatMarkdown, formatText, parseBenchOptions, renderSvg, runBench, type BenchOptions, type RawBenchOptions } from '../loadgen/index.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function fail(cmd: Command, e: unknown): never {
  if (e instanceof BenchUsageError) {
    process.stderr.write(`switchyard bench: ${e.message}\n\n${cmd.helpInformation()}`);
    process.exit(e.exitCode);
  }
  if (e instanceof BenchError) {
    process.stderr.write(`switchyard bench: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  throw e;
}

function writeReport(file: string, text: string, what: string): boolean {
  try {
    writeFileSync(file, text);
    process.stderr.write(`wrote ${what} to ${file}\n`);
    return true;
  } catch (e) {
    process.stderr.write(`switchyard bench: cannot write ${what} to ${file}: ${(e as Error).message}\n`);
    return false;
  }
}

async function bench(cmd: Command, raw: RawBenchOptions): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(raw);
  } catch (e) {
    fail(cmd, e);
  }
  let report: Awaited<ReturnType<typeof runBench>>;
  try {
    report = await runBench(options, { progress: process.stderr });
  } catch (e) {
    fail(cmd, e);
  }
  process.stdout.write(formatText(report));
  let ok = true;
  if (options.json !== null) ok = writeReport(options.json, formatJson(report), 'the JSON report') && ok;
  if (options.markdown !== null) ok = writeReport(options.markdown, formatMarkdown(report), 'the markdown report') && ok;
  if (options.plot !== null) ok = writeReport(options.plot, renderSvg(report), 'the plot') && ok;
  const empty = report.runs.flatMap((r) => r.steps.filter((s) => s.successes === 0).map((s) => `${r.sweep === null ? '' : `${r.sweep.key}=${r.sweep.value} `}${s.label}`));
  if (empty.length > 0) process.stderr.write(`switchyard bench: no successful answer in ${empty.join(', ')}\n`);
  process.exitCode = ok && empty.length === 0 ? 0 : 1;
}

export function addBenchCommand(program: Command): void {
  const cmd = program
    .command('bench')
    .description('load-test a KServe v2 server (switchyard, Triton, KServe): req/s and latency percentiles per concurrency or arrival rate')
    .option('--url <url>', `HTTP base URL of the server (default ${DEFAULTS.url})`)
    .option('--grpc-url <host:port>', `gRPC address (default: the --url host, port ${DEFAULTS.grpcPort})`)
    .option('-m, --model <name>', 'model to load (required)')
    .option('--model-version <version>', 'model version (default: the server picks)')
    .option('--protocol <protocol>', `${PROTOCOLS.join(' | ')} (default ${DEFAULTS.protocol})`)
    .option('--concurrency <list>', `closed loop: requests in flight per step, e.g. 1,16,64,256 (default ${DEFAULTS.concurrency})`)
    .option('--rate <list>', 'open loop: arrival rates in req/s per step, e.g. 1000,5000; latency counts from the intended send time')
    .option('--duration <time>', `measured time per step: 30s, 500ms, 2m (default ${DEFAULTS.duration})`)
    .option('--warmup <time>', `unmeasured load before each step (default ${DEFAULTS.warmup})`)
    .option('--timeout <time>', `a request unanswered this long counts as a timeout (default ${DEFAULTS.timeout})`)
    .option('--input-data <source>', 'random | zeros | file.json holding a KServe v2 request body {"inputs": [...]} (default random)')
    .option('--shape <input:dims>', 'shape of an input, e.g. x:1,16 (repeatable; default: dynamic dims 1)', collect)
    .option('--batch-size <n>', 'sets dim 0 of every input')
    .option('--connections <n>', 'HTTP connections / gRPC channels / WebSocket sockets (default: HTTP = concurrency, 256 for --rate; gRPC and WebSocket 1)')
    .option('--max-inflight <n>', 'open loop: requests in flight at most (default: HTTP connections; gRPC and WebSocket 1024)')
    .option('--json <file>', 'write the complete report as JSON')
    .option('--markdown <file>', 'write the report as markdown')
    .option('--plot <file>', 'write an SVG of latency percentiles against throughput')
    .option('--sweep <setting=values>', 'restart a local gateway for each value of a model setting, e.g. max_queue_delay_us=0,100,500,2000 (needs --config)')
    .option('-c, --config <file>', 'the local gateway config for --sweep (e.g. examples/switchyard.yaml)')
    .showHelpAfterError()
    // commander's own option errors (unknown option, missing value) exit 2 as ours do
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((raw: RawBenchOptions) => bench(cmd, raw));
}
