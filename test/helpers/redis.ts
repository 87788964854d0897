import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** A real redis-server started for a test. */
export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** the server's process id (tests may SIGSTOP/SIGCONT it to make it hang) */
  readonly pid: number;
  /** stops the server (SIGTERM, then SIGKILL after 2 s) and waits for it to exit; idempotent */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** listen on this port (e.g. to restart a stopped server where its clients reconnect); default a free one */
  readonly port?: number;
}

/**
 * Spawns a real `redis-server` on a free port with persistence off (`--save '' --appendonly
 * no`) and resolves once it answers PING. Throws (never skips) when the binary is missing:
 * the tests that need Redis must not pass silently on a machine without it.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await spawnRedis(port);
    } catch (e) {
      lastError = e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || options.port !== undefined) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function spawnRedis(port: number): Promise<TestRedis> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        const err = new Error('redis-server not found on PATH: install Redis (e.g. apt-get install redis-server) to run these tests') as NodeJS.ErrnoException;
        err.code = 'ENOENT';
        reject(err);
      } else reject(e);
    }),
  );
  spawnError.catch(() => undefined);
  const early = exited.then(() => {
    throw new Error(`redis-server exited before it was ready on port ${port}: ${output.trim()}`);
  });
  early.catch(() => undefined);
  try {
    await Promise.race([waitForPing(port, 10_000), spawnError, early]);
  } catch (e) {
    await stopChild(child, exited);
    throw e;
  }
  let stopping: Promise<void> | null = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop() {
      stopping ??= stopChild(child, exited);
      return stopping;
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill('SIGCONT'); // a paused server ignores SIGTERM until continued
    child.kill('SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** A TCP port free on 127.0.0.1 right now (another process may take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}
