/**
 * `switchyard score`: batch (offline) scoring of a JSONL or CSV file through the gateway of a
 * config (in process) or a running one (--url). See src/score/.
 *
 * Exit codes: 0 every row scored; 1 some rows failed (see the errors file), the run was
 * interrupted (resume it with --resume) or the results could not be written; 2 a bad option,
 * file, model or column set, reported before any row runs.
 */
import type { Command } from 'commander';
import { ConfigError, loadServerConfig, type ServerConfig } from '../config/index.js';

interface RawScoreOptions {
  model: string;
  modelVersion?: string;
  input: string;
  output: string;
  errors?: string;
  columns?: string;
  resume?: boolean;
  overwrite?: boolean;
  url?: string;
  concurrency: string;
  config?: string;
  idPrefix?: string;
}

function usage(message: string): never {
  process.stderr.write(`switchyard score: ${message}\n`);
  process.exit(2);
}

function loadConfig(file: string | undefined): ServerConfig {
  try {
    return loadServerConfig(file ?? null);
  } catch (e) {
    if (e instanceof ConfigError || (e instanceof Error && e.name === 'ConfigError')) usage(e.message);
    throw e;
  }
}

/** The entity id columns of the config's feature views (a row may carry one instead of the bound input). */
async function entityColumns(config: ServerConfig): Promise<string[]> {
  const { compileFeatures } = await import('../features/index.js');
  const bindings = Object.fromEntries(Object.entries(config.models).flatMap(([m, s]) => (s.features === undefined ? [] : [[m, s.features]])));
  try {
    const compiled = compileFeatures(config.features.views, bindings, process.cwd());
    return [...new Set([...compiled.views.values()].flatMap((v) => v.entityInputs))];
  } catch {
    return []; // the gateway reports a bad feature config itself
  }
}

async function score(raw: RawScoreOptions): Promise<void> {
  const concurrency = Number(raw.concurrency);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 65536) usage(`--concurrency ${raw.concurrency}: expected a whole number of rows in flight, 1 … 65536`);
  if (raw.resume === true && raw.overwrite === true) usage('--resume and --overwrite exclude each other: continue the run, or start it again');
  const columns = raw.columns === undefined ? null : raw.columns.split(',').map((c) => c.trim());
  if (columns !== null && columns.some((c) => c === '')) usage(`--columns ${raw.columns}: expected comma-separated column names, e.g. x[0],x[1],x[2]`);
  const config = loadConfig(raw.config);
  const s = await import('../score/index.js');
  const { createLogger } = await import('../core/index.js');
  // the gateway's own log: warnings and errors only (model loads at info would bury the summary)
  const log = createLogger(config.log_level === 'debug' || config.log_level === 'error' ? config.log_level : 'warn');
  const version = raw.modelVersion ?? null;
  const run = new s.ScoreRun();
  let scorer: Awaited<ReturnType<typeof s.inProcessScorer>> | null = null;
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals > 1) process.exit(1);
    process.stderr.write('switchyard score: stopping: the rows in flight finish and are written; run again with --resume to continue\n');
    run.stop();
  };
  try {
    // the input is checked before a gateway is built: a typo costs no model load
    s.inputFormat(raw.input);
    await (await s.openInput(raw.input)).close();
    scorer = raw.url === undefined ? await s.inProcessScorer(config, raw.model, version, log) : await s.httpScorer(raw.url, raw.model, version, concurrency);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const summary = await run.run(
      {
        input: raw.input,
        output: raw.output,
        errors: raw.errors ?? `${raw.output}.errors.jsonl`,
        resume: raw.resume === true,
        overwrite: raw.overwrite === true,
        columns,
        concurrency,
        idPrefix: raw.idPrefix ?? `score-${Date.now().toString(36)}-`,
        entityColumns: await entityColumns(config),
      },
      scorer,
      process.stderr,
    );
    const resumed = summary.skipped > 0 ? ` (${summary.skipped} done before, resumed)` : '';
    process.stderr.write(
      `switchyard score: ${summary.interrupted ? 'interrupted after' : 'done,'} ${summary.rows} rows${resumed}: ${summary.ok} ok, ${summary.failed} failed` +
        ` in ${summary.seconds.toFixed(1)} s, ${summary.rowsPerSec.toFixed(0)} rows/s (${scorer.where})` +
        (summary.failed > 0 ? `; reasons in ${raw.errors ?? `${raw.output}.errors.jsonl`}` : '') +
        (summary.interrupted ? '; continue with --resume' : '') +
        '\n',
    );
    process.exitCode = summary.failed > 0 || summary.interrupted ? 1 : 0;
  } catch (e) {
    if (e instanceof s.ScoreUsageError || e instanceof s.ScoreError) {
      process.stderr.write(`switchyard score: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await scorer?.close();
  }
}

export function addScoreCommand(program: Command): void {
  program
    .command('score')
    .description('batch (offline) scoring: run every row of a JSONL or CSV file through a model or route, answers in input order')
    .requiredOption('-m, --model <name>', 'model or route to score with')
    .option('--model-version <version>', 'model version (default: the newest ready one, or the route picks)')
    .requiredOption('-i, --input <file>', '.jsonl (a {"column": value} object or a KServe v2 {"inputs": [...]} request per line) or .csv (header row of column names)')
    .requiredOption('-o, --output <file>', 'JSON lines: {"row", "id", "model_name", "model_version", "outputs": {"<name>": [...]}} per row, in input order')
    .option('--errors <file>', 'failed rows: {"row", "line", "code", "error"} per line (default <output>.errors.jsonl)')
    .option('--columns <names>', 'CSV without a header row: its column names, comma-separated (e.g. x[0],x[1],customer_id)')
    .option('--resume', 'continue an interrupted run: keep the rows already written, skip them in the input')
    .option('--overwrite', 'start again when --output exists')
    .option('--url <url>', 'score against a running gateway (REST, e.g. http://localhost:8000) instead of one in this process')
    .option('--concurrency <n>', 'rows in flight at once (the batcher batches them)', '256')
    .option('--id-prefix <text>', 'request ids are <prefix><row> (default score-<time>-)')
    .option('-c, --config <file>', 'YAML config: the gateway run in process (model repository, routes, features); its feature views name the entity id columns')
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action((raw: RawScoreOptions) => score(raw));
}
