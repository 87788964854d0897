/**
 * Starting switchyard for the bench: build dist/ when it is missing or older than src/,
 * copy the example model repository to a temp folder (with batching on as the examples
 * configure it, or off: `max_batch_size: 0`), write a server config on an ephemeral port,
 * and run `node bin/switchyard.js serve --config <file>` as a child process.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { jsonLine, spawnServer, type ServerProcess } from './processes.js';

/** Newest mtime (ms) of the files under `dir` whose names end with one of `exts`; 0 when none. */
function newest(dir: string, exts: readonly string[]): number {
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !exts.some((e) => entry.name.endsWith(e))) continue;
    const m = statSync(path.join(entry.parentPath, entry.name)).mtimeMs;
    if (m > max) max = m;
  }
  return max;
}

/**
 * Runs `tsc -p tsconfig.build.json` when dist/ is missing or a file in src/ is newer than
 * the newest file in dist/. Type errors do not stop the build (tsc still emits); they are
 * reported. Returns what it did, for the log.
 */
export function ensureBuilt(repoRoot: string): string {
  const src = newest(path.join(repoRoot, 'src'), ['.ts']);
  const dist = newest(path.join(repoRoot, 'dist'), ['.js']);
  if (dist > 0 && dist >= src && existsSync(path.join(repoRoot, 'dist', 'cli.js'))) return 'dist/ is current';
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    return 'built dist/ (tsc -p tsconfig.build.json)';
  } catch (e) {
    const out = e instanceof Error && 'stdout' in e ? String((e as { stdout: unknown }).stdout) : '';
    if (!existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error(`building dist/ failed:\n${out}`);
    return `built dist/ with type errors (tsc still emitted):\n${out.split('\n').slice(0, 10).join('\n')}`;
  }
}

export type BatchingMode = 'on' | 'off';

/**
 * Copies the model repository to a fresh temp folder. `on` keeps every config as it is;
 * `off` rewrites `model`'s config.yaml with `max_batch_size: 0` and no `dynamic_batching`,
 * keeping its other keys (instance_count, version_policy …). Returns the folder.
 */
export function prepareRepository(source: string, model: string, mode: BatchingMode): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `switchyard-bench-${mode}-`));
  cpSync(source, dir, { recursive: true });
  if (mode === 'off') {
    const file = path.join(dir, model, 'config.yaml');
    const parsed: unknown = existsSync(file) ? parseYaml(readFileSync(file, 'utf8')) : {};
    const config: Record<string, unknown> = typeof parsed === 'object' && parsed !== null ? { ...(parsed as Record<string, unknown>) } : {};
    config.max_batch_size = 0;
    delete config.dynamic_batching;
    writeFileSync(file, stringifyYaml(config));
  }
  return dir;
}

export interface SwitchyardSpec {
  repoRoot: string;
  /** folder of the model repository to serve */
  repository: string;
  name: string;
  /** top-level config sections laid over the bench's own (e.g. request_log, routes) */
  config?: Record<string, unknown>;
}

export interface RunningSwitchyard {
  server: ServerProcess;
  baseUrl: string;
  /** host:port of its gRPC door */
  grpcAddress: string;
  /** stops the server and removes its temp files */
  stop(): Promise<void>;
}

/** Writes a config next to the repository copy and starts the server on an ephemeral port. */
export async function startSwitchyard(spec: SwitchyardSpec): Promise<RunningSwitchyard> {
  const configFile = path.join(spec.repository, '..', `${path.basename(spec.repository)}.yaml`);
  writeFileSync(
    configFile,
    stringifyYaml({
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '127.0.0.1', port: 0 },
      model_repository: spec.repository,
      // `info` is the level of the "switchyard listening" line the bench waits for.
      log_level: 'info',
      drain_timeout_s: 5,
      // a measurement keeps no routes across runs (and several gateways may share this folder)
      state_dir: null,
      // the request log goes to the temp folder, removed with it
      request_log: { sinks: [{ type: 'file', path: path.join(spec.repository, '..', `${path.basename(spec.repository)}-requests.jsonl`) }] },
      ...spec.config,
    }),
  );
  const server = await spawnServer({
    name: spec.name,
    command: process.execPath,
    args: [path.join(spec.repoRoot, 'bin', 'switchyard.js'), 'serve', '--config', configFile],
    cwd: spec.repoRoot,
    // as `npm start` runs it (see the README on MALLOC_ARENA_MAX)
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1' },
    readyStream: 'stderr',
    parseReady(line) {
      const rec = jsonLine(line);
      if (rec === null || rec.msg !== 'switchyard listening' || typeof rec.http !== 'string') return null;
      const port = Number(rec.http.slice(rec.http.lastIndexOf(':') + 1));
      if (!Number.isInteger(port) || port <= 0) return null;
      const grpc = typeof rec.grpc === 'string' ? rec.grpc : '';
      return { port, facts: { uws: typeof rec.uws === 'string' ? rec.uws : 'unknown', grpc } };
    },
  });
  return {
    server,
    baseUrl: `http://127.0.0.1:${server.port}`,
    grpcAddress: server.facts.grpc ?? '',
    async stop() {
      await server.stop();
      rmSync(configFile, { force: true });
      rmSync(path.join(spec.repository, '..', `${path.basename(spec.repository)}-requests.jsonl`), { force: true });
      rmSync(spec.repository, { recursive: true, force: true });
    },
  };
}
