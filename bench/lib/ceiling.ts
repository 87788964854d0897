/** Starts the ceiling servers (bench/servers/) in their own processes. */
import path from 'node:path';
import { jsonLine, spawnServer, type ServerProcess } from './processes.js';

/**
 * Runs bench/servers/<file> with tsx on 127.0.0.1, an ephemeral port. The server prints one
 * JSON line with its `port` on stdout when it listens; `fact` names the field of that line
 * worth reporting (its version or native-binary state).
 */
function startServer(repoRoot: string, file: string, fact: (rec: Record<string, unknown>) => Record<string, string>): Promise<ServerProcess> {
  return spawnServer({
    name: path.basename(file, '.ts'),
    command: process.execPath,
    // tsx only transpiles the file at load time; the request path runs as plain JS.
    args: ['--import', 'tsx', path.join(repoRoot, 'bench', 'servers', file), '127.0.0.1', '0'],
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
