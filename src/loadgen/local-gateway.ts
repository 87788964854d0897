/**
 * A local switchyard for sweeps: the gateway of a config file, restarted for each value of
 * one per-model setting. Each start copies the config's model repository to a temp folder,
 * writes the setting into the copy's `<model>/config.yaml` (the file wins over
 * model_defaults), writes the config (validated here first) with both ports on 0, loopback
 * hosts and file request logs redirected into the temp folder, and runs
 * `node bin/switchyard.js serve --config <temp>`. Its "switchyard listening" log line says
 * which ports it got. stop() ends it (SIGTERM, SIGKILL after 10 s) and removes the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DynamicBatchingSchema, ENV_OVERRIDES, loadServerConfig } from '../config/index.js';
import { killOnExit } from './children.js';
import { BenchError, BenchUsageError } from './errors.js';

export interface LocalGateway {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** 127.0.0.1:<port> */
  readonly grpcAddress: string;
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
/** variables the bench sets for the child (ports, repository, log level) */
const OWN_ENV = ['SWITCHYARD_HTTP_PORT', 'SWITCHYARD_GRPC_PORT', 'SWITCHYARD_MODEL_REPOSITORY', 'SWITCHYARD_LOG_LEVEL'];
const KEEP_LINES = 30;


/** Where `key` lives in a model's config.yaml: dynamic_batching keys under it, dotted keys as paths. */
export function settingPath(key: string): string[] {
  if (key.includes('.')) return key.split('.');
  return Object.prototype.hasOwnProperty.call(DynamicBatchingSchema.properties, key) ? ['dynamic_batching', key] : [key];
}

function setIn(target: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let o = target;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    o = o[k] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
  }
  o[keys[keys.length - 1]] = value;
}

/** The child's environment: ours without the variables the temp config decides. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1' };
  for (const v of OWN_ENV) delete env[v];
  return env;
}

/** Writes the temp repository and config; returns the config's path. */
function prepare(dir: string, configFile: string, model: string, key: string, value: number | string): string {
  const fileEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const o of ENV_OVERRIDES) delete fileEnv[o.variable];
  let config: ReturnType<typeof loadServerConfig>;
  try {
    config = loadServerConfig(configFile, fileEnv);
  } catch (e) {
    throw new BenchUsageError(`--config ${configFile}: ${(e as Error).message}`);
  }
  const repo = path.join(dir, 'models');
  cpSync(config.model_repository, repo, { recursive: true });
  const modelDir = path.join(repo, model);
  if (!existsSync(modelDir)) throw new BenchUsageError(`--sweep: model "${model}" is not in the repository ${config.model_repository} of --config ${configFile}`);
  const modelConfigFile = path.join(modelDir, 'config.yaml');
  const parsed: unknown = existsSync(modelConfigFile) ? parseYaml(readFileSync(modelConfigFile, 'utf8')) : {};
  const modelConfig = typeof parsed === 'object' && parsed !== null ? { ...(parsed as Record<string, unknown>) } : {};
  setIn(modelConfig, settingPath(key), value);
  writeFileSync(modelConfigFile, stringifyYaml(modelConfig));

  const out = structuredClone(config) as unknown as Record<string, unknown> & { http: Record<string, unknown>; grpc: Record<string, unknown>; request_log: { sinks: Record<string, unknown>[] } };
  out.http = { ...out.http, host: '127.0.0.1', port: 0 };
  out.grpc = { ...out.grpc, host: '127.0.0.1', port: 0, enabled: true };
  out.model_repository = repo;
  // a load test's gateway must not take (or change) the state folder of the config's real gateway
  out.state_dir = null;
  // the "switchyard listening" line is logged at info
  out.log_level = 'info';
  out.request_log = { ...out.request_log, sinks: out.request_log.sinks.map((s, i) => (s.type === 'file' ? { ...s, path: path.join(dir, `requests-${i}.jsonl`) } : s)) };
  const file = path.join(dir, 'switchyard.yaml');
  writeFileSync(file, stringifyYaml(out));
  return file;
}

function parseListening(line: string): { http: number; grpc: string } | null {
  if (!line.startsWith('{')) return null;
  try {
    const rec = JSON.parse(line) as { msg?: unknown; http?: unknown; grpc?: unknown };
    if (rec.msg !== 'switchyard listening' || typeof rec.http !== 'string' || typeof rec.grpc !== 'string') return null;
    return { http: Number(rec.http.slice(rec.http.lastIndexOf(':') + 1)), grpc: rec.grpc };
  } catch {
    return null;
  }
}

/** Starts the config's gateway with `key: value` in `model`'s config. */
export async function startLocalGateway(configFile: string, model: string, key: string, value: number | string): Promise<LocalGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-sweep-'));
  let child: ChildProcess;
  try {
    const file = prepare(dir, configFile, model, key, value);
    child = spawn(process.execPath, [BIN, 'serve', '--config', file], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // no gateway outlives the bench, also when the bench is interrupted
  killOnExit(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const recent: string[] = [];
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ports = await new Promise<{ http: number; grpc: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchError(`the local gateway did not start within ${START_TIMEOUT_MS / 1000} s:\n${recent.join('\n')}`)), START_TIMEOUT_MS);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        recent.push(line);
        if (recent.length > KEEP_LINES) recent.shift();
        const p = parseListening(line);
        if (p !== null) {
          clearTimeout(timer);
          resolve(p);
        }
      });
    }
    child.once('error', (e) => reject(new BenchError(`cannot start the local gateway (${BIN}): ${e.message}`)));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new BenchError(`the local gateway exited before it was ready (code ${child.exitCode}):\n${recent.join('\n')}`));
    });
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  return { url: `http://127.0.0.1:${ports.http}`, grpcAddress: ports.grpc, stop };
}
