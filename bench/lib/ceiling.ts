/** Starts the ceiling and peer servers (bench/servers/) and the raw-ORT probe in their own processes. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { ComputeResult } from './report.js';
import { jsonLine, spawnServer, type ServerProcess } from './processes.js';

/**
 * Runs bench/servers/<file> with tsx on 127.0.0.1, an ephemeral port. The server prints one
 * JSON line with its `port` on stdout when it listens; `fact` names the field of that line
 * worth reporting (its version or native-binary state).
 */
function startServer(repoRoot: string, file: string, fact: (rec: Record<string, unknown>) => Record<string, string>, extra: readonly string[] = []): Promise<ServerProcess> {
  return spawnServer({
    name: path.basename(file, '.ts'),
    command: process.execPath,
    // tsx only transpiles the file at load time; the request path runs as plain JS.
    args: ['--import', 'tsx', path.join(repoRoot, 'bench', 'servers', file), '127.0.0.1', '0', ...extra],
    cwd: repoRoot,
    readyStream: 'stdout',
    startTimeoutMs: 30_000,
    parseReady(line) {
      const rec = jsonLine(line);
      if (rec === null || typeof rec.port !== 'number') return null;
      return { port: rec.port, facts: fact(rec) };
    },
  });
}

/** The HTTP ceiling: a uWebSockets.js hello-world. */
export function startCeiling(repoRoot: string): Promise<ServerProcess> {
  return startServer(repoRoot, 'hello-uws.ts', (rec) => ({ uws: typeof rec.uws === 'string' ? rec.uws : 'unknown' }));
}

/** The gRPC ceiling: a @grpc/grpc-js server answering ModelInfer and ModelStreamInfer. */
export function startGrpcEcho(repoRoot: string): Promise<ServerProcess> {
  return startServer(repoRoot, 'grpc-echo.ts', (rec) => ({ grpc: typeof rec.grpc === 'string' ? `grpc-js ${rec.grpc}` : 'unknown' }));
}

/** The peer: node:http + onnxruntime-node, one session.run() per request, serving `model`. */
export function startPeer(repoRoot: string, model: string): Promise<ServerProcess> {
  return startServer(repoRoot, 'peer-http.ts', (rec) => ({ ort: typeof rec.ort === 'string' ? `onnxruntime-node ${rec.ort}` : 'unknown' }), [model]);
}

/** The uWS peer: uWebSockets.js + onnxruntime-node, session.run() inline per request, serving `model`. */
export function startPeerUws(repoRoot: string, model: string): Promise<ServerProcess> {
  return startServer(
    repoRoot,
    'peer-uws-inline.ts',
    (rec) => ({ uws: typeof rec.uws === 'string' ? rec.uws : 'unknown', ort: typeof rec.ort === 'string' ? `onnxruntime-node ${rec.ort}` : 'unknown' }),
    [model],
  );
}

export interface RawOrtSpec {
  /** model.onnx path */
  model: string;
  /** its FP32 input's name and row width */
  input: string;
  width: number;
  batches: readonly number[];
  /** measured seconds per batch size (after 1 s of warm-up) */
  seconds: number;
}

export interface RawOrtResult {
  ort: string;
  threads: string;
  results: ComputeResult[];
}

/** Runs bench/servers/raw-ort.ts in its own process and returns its rows/s per batch size. */
export function runRawOrt(repoRoot: string, spec: RawOrtSpec): Promise<RawOrtResult> {
  const args = ['--import', 'tsx', path.join(repoRoot, 'bench', 'servers', 'raw-ort.ts'), spec.model, spec.input, String(spec.width), spec.batches.join(','), String(spec.seconds)];
  const limitMs = (spec.seconds + 1) * spec.batches.length * 1000 + 60_000;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: repoRoot, timeout: limitMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`raw-ort failed: ${err.message}\n${stderr.slice(-2000)}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      const rec = jsonLine(line);
      if (rec === null || !Array.isArray(rec.results)) {
        reject(new Error(`raw-ort printed no results: ${stdout.slice(-500)}${stderr.slice(-500)}`));
        return;
      }
      resolve({ ort: String(rec.ort), threads: String(rec.threads), results: rec.results as ComputeResult[] });
    });
  });
}
