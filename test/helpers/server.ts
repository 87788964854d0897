import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadServerConfig } from '../../src/config/index.js';
import type { GatewayOptions } from '../../src/gateway.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { silentLogger, type Logger } from '../../src/core/index.js';

export const EXAMPLE_MODELS = fileURLToPath(new URL('../../examples/models', import.meta.url));

export interface TestServer {
  server: RunningServer;
  url: string;
  /** host:port of the gRPC server (grpc.enabled must not be false) */
  grpcAddress: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts the real gateway in this process on an ephemeral port, from a YAML config written to
 * a temp dir (so the config path is exercised as well). `repo` defaults to a copy of the
 * example repository (tests may change their copy).
 */
export async function startTestServer(config: Record<string, unknown> = {}, repo?: string, options: Pick<GatewayOptions, 'monitoring'> = {}, log: Logger = silentLogger): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  let root = repo;
  if (root === undefined) {
    root = join(dir, 'models');
    cpSync(EXAMPLE_MODELS, root, { recursive: true });
  }
  const file = join(dir, 'switchyard.yaml');
  writeFileSync(file, stringify({ http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model_repository: root, log_level: 'error', ...config }));
  const cfg = loadServerConfig(file, {});
  const server = await startServer(cfg, log, options);
  return {
    server,
    url: `http://127.0.0.1:${server.httpPort}`,
    grpcAddress: `127.0.0.1:${server.grpcPort}`,
    dir,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, headers: res.headers };
}

export async function getJson(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

/** Deterministic FP32 rows for the tabular model's input x [n,16]. */
export function tabularRows(n: number, seed = 1): number[][] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: n }, () => Array.from({ length: 16 }, () => Math.fround(next() * 4)));
}

export function tabularRequest(rows: number[][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 16], data: rows }], ...extra };
}

/** Sum and count of a Prometheus histogram series (all label sets matching `match`). */
export function histogram(metrics: string, name: string, match: string): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}_sum{`) && line.includes(match)) sum += Number(line.split(' ').pop());
    if (line.startsWith(`${name}_count{`) && line.includes(match)) count += Number(line.split(' ').pop());
  }
  return { sum, count };
}

export function counter(metrics: string, name: string, match: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(match)) total += Number(line.split(' ').pop());
  }
  return total;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
