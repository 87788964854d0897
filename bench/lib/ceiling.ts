/** Starts the ceiling servers (bench/servers/) in their own processes. */
import path from 'node:path';
import { jsonLine, spawnServer, type ServerProcess } from './processes.js';

export async function startCeiling(repoRoot: string): Promise<ServerProcess> {
  return spawnServer({
    name: 'hello-uws',
    command: process.execPath,
    // tsx only transpiles the file at load time; the request path runs as plain JS.
    args: ['--import', 'tsx', path.join(repoRoot, 'bench', 'servers', 'hello-uws.ts'), '127.0.0.1', '0'],
    cwd: repoRoot,
    readyStream: 'stdout',
    startTimeoutMs: 30_000,
    parseReady(line) {
      const rec = jsonLine(line);
      if (rec === null || typeof rec.port !== 'number') return null;
      return { port: rec.port, facts: { uws: typeof rec.uws === 'string' ? rec.uws : 'unknown' } };
    },
  });
}

/** Starts the gRPC ceiling server (bench/servers/grpc-echo.ts) in its own process. */
export async function startGrpcEcho(repoRoot: string): Promise<ServerProcess> {
  return spawnServer({
    name: 'grpc-echo',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'bench', 'servers', 'grpc-echo.ts'), '127.0.0.1', '0'],
    cwd: repoRoot,
    readyStream: 'stdout',
    startTimeoutMs: 30_000,
    parseReady(line) {
      const rec = jsonLine(line);
      if (rec === null || typeof rec.port !== 'number') return null;
      return { port: rec.port, facts: { grpc: typeof rec.grpc === 'string' ? `grpc-js ${rec.grpc}` : 'unknown' } };
    },
  });
}
