import { Command } from 'commander';
import { ConfigError, loadServerConfig, type ServerConfig } from './config/index.js';
import { addRoutesCommand } from './cli/routes.js';
import { addBenchCommand } from './cli/bench.js';
import { addScoreCommand } from './cli/score.js';
import { SERVER_VERSION } from './protocol/index.js';
import { createLogger } from './core/index.js';

// Each command imports what it runs when it runs: `switchyard features load` or `--help` does
// not load ONNX Runtime, uWebSockets.js, prom-client or OpenTelemetry.

/** The server config, or exit 2 with the config error. */
function configOrExit(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  try {
    return loadServerConfig(file ?? null, env);
  } catch (e) {
    if (e instanceof ConfigError || (e instanceof Error && e.name === 'ConfigError')) {
      process.stderr.write(`switchyard: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

interface ServeOptions {
  config?: string;
  modelControlMode?: string;
  loadModel?: string[];
  modelRepository?: string;
  modelName?: string;
  httpPort?: string;
  grpcPort?: string;
}

/** serve's flags and the environment variables they set (so a bad value is reported as the variable's). */
const SERVE_FLAG_VARIABLES: readonly (readonly [keyof ServeOptions, string])[] = [
  ['modelControlMode', 'SWITCHYARD_MODEL_CONTROL_MODE'],
  ['modelRepository', 'SWITCHYARD_MODEL_REPOSITORY'],
  ['modelName', 'SWITCHYARD_MODEL_NAME'],
  ['httpPort', 'SWITCHYARD_HTTP_PORT'],
  ['grpcPort', 'SWITCHYARD_GRPC_PORT'],
];

async function serve(opts: ServeOptions): Promise<void> {
  // the flags are Triton's, and win over the file and the environment as the variables do
  const env = { ...process.env };
  for (const [flag, variable] of SERVE_FLAG_VARIABLES) {
    const value = opts[flag];
    if (typeof value === 'string') env[variable] = value;
  }
  if (opts.loadModel !== undefined) env.SWITCHYARD_STARTUP_MODELS = opts.loadModel.join(',');
  const config = configOrExit(opts.config, env);
  const log = createLogger(config.log_level);
  const { startServer } = await import('./cli/serve.js');
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, log);
  } catch (e) {
    // an unusable state_dir or a damaged state file: the message says what to do, a stack would bury it
    if (e instanceof Error && e.name === 'StateFileError') {
      process.stderr.write(`switchyard: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  let signals = 0;
  const shutdown = (signal: string): void => {
    signals++;
    if (signals > 1) {
      log.warn('second signal: exiting without draining', { signal });
      process.exit(1);
    }
    log.info('draining', { signal, timeoutS: config.drain_timeout_s });
    server.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        log.error('stop failed', { err: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

export function main(argv: string[]): void {
  const program = new Command();
  program.name('switchyard').description('Model serving gateway: KServe v2 over REST, dynamic batching, ONNX Runtime').version(SERVER_VERSION);
  // the program's --version only before a command: `drift reference --version 1` is the model's
  program.enablePositionalOptions();
  program
    .command('serve')
    .description('serve a model repository')
    .option('-c, --config <file>', 'YAML config file (see examples/switchyard.yaml); env SWITCHYARD_* override it')
    .option('--model-control-mode <mode>', 'none (load every model) or explicit (load only --load-model ones); sets model_control_mode')
    .option('--load-model <name>', 'with explicit mode: a model to load at startup, "*" for all; repeat for more; sets startup_models', (v: string, prev: string[] = []) => [...prev, v])
    .option('--model-repository <dir>', 'the model repository (relative to the current directory); sets model_repository')
    .option('--model-name <name>', "serve --model-repository as this one model's folder (KServe's /mnt/models); sets model_name")
    .option('--http-port <port>', 'sets http.port')
    .option('--grpc-port <port>', 'sets grpc.port')
    .action((opts: ServeOptions) => serve(opts));
  program
    .command('doctor')
    .description('print Node, uWebSockets.js, ONNX Runtime and the execution providers this machine can use')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { doctor, formatDoctor } = await import('./cli/doctor.js');
      const r = await doctor();
      process.stdout.write(opts.json === true ? JSON.stringify(r, null, 2) + '\n' : formatDoctor(r));
    });
  addRoutesCommand(program);
  addBenchCommand(program);
  addScoreCommand(program);
  const features = program.command('features').description('online feature store tools');
  features
    .command('load')
    .description("write a feature view's rows from a CSV or JSON-lines file into Redis (pipelined batches)")
    .requiredOption('--view <name>', 'feature view of the config (features.views)')
    .requiredOption('--file <path>', '.csv with a header row, or .jsonl with one object per line; columns: the entity id and the fields')
    .option('--redis <url>', 'redis:// URL; default redis.url of the config (or SWITCHYARD_REDIS_URL)')
    .option('-c, --config <file>', 'YAML config file defining the view')
    .action(async (opts: { view: string; file: string; redis?: string; config?: string }) => {
      const config = configOrExit(opts.config);
      const redisUrl = opts.redis ?? config.redis.url;
      if (redisUrl === null) {
        process.stderr.write('switchyard: no Redis to load into: pass --redis redis://host:6379, or set redis.url (SWITCHYARD_REDIS_URL)\n');
        process.exit(2);
      }
      const { loadFeatures } = await import('./features/index.js');
      const r = await loadFeatures({ view: opts.view, views: config.features.views, file: opts.file, redisUrl });
      process.stdout.write(`view ${opts.view}: ${r.written} rows written, ${r.rejected.length} rejected\n`);
      for (const rej of r.rejected.slice(0, 50)) process.stdout.write(`  line ${rej.line}: ${rej.reason}\n`);
      if (r.rejected.length > 50) process.stdout.write(`  … and ${r.rejected.length - 50} more\n`);
      process.exitCode = r.rejected.length > 0 ? 1 : 0;
    });

  const drift = program.command('drift').description('drift detection tools');
  drift
    .command('reference')
    .description("write <model>/<version>/reference.json (the drift reference) from a sample of inputs and outputs")
    .requiredOption('--model <name>', 'model name')
    .requiredOption('--version <version>', 'model version')
    .requiredOption('--file <path>', 'sample: JSON lines (KServe v2 requests, request-log records with payloads, or {column: value} rows) or CSV with a header')
    .option('-c, --config <file>', 'YAML config file naming the model repository')
    .action(async (opts: { model: string; version: string; file: string; config?: string }) => {
      const config = configOrExit(opts.config);
      if (config.model_name !== null && opts.model !== config.model_name) {
        process.stderr.write(`switchyard: the model repository is the one model "${config.model_name}" (model_name); --model ${opts.model} is not in it\n`);
        process.exit(2);
      }
      const { SampleFileError, writeReferenceFile } = await import('./telemetry/index.js');
      const { versionFolder } = await import('./repository/paths.js');
      try {
        const folder = versionFolder(config.model_repository, config.model_name, opts.model, opts.version);
        const r = await writeReferenceFile({ root: config.model_repository, model: opts.model, version: opts.version, folder, file: opts.file });
        process.stdout.write(`wrote ${r.path}: ${r.columns.length} columns, ${r.sampleSize} values in the largest\n`);
      } catch (e) {
        if (e instanceof SampleFileError) {
          process.stderr.write(`switchyard: ${e.message}\n`);
          process.exit(1);
        }
        throw e;
      }
    });
  program.parseAsync(argv).catch((e: unknown) => {
    process.stderr.write(`switchyard: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
