/**
 * Server processes for the bench: spawn one, wait until it says which port it listens on,
 * stop it cleanly (SIGTERM, then SIGKILL after a grace period). Every child is also killed
 * if the bench itself exits or is interrupted, so no server outlives a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { killOnExit } from '../../src/loadgen/children.js';

export interface SpawnSpec {
  /** shown in errors and logs */
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** which output stream carries the ready line */
  readyStream: 'stdout' | 'stderr';
  /** returns the port (and any facts worth reporting) when `line` is the ready line, else null */
  parseReady: (line: string) => ReadyInfo | null;
  /** ms to wait for the ready line (default 60 s: models load at startup) */
  startTimeoutMs?: number;
}

export interface ReadyInfo {
  port: number;
  /** facts from the ready line, e.g. { uws: 'native' } */
  facts: Record<string, string>;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly facts: Record<string, string>;
  /** the last lines the process wrote (both streams), for error messages */
  recentOutput(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited */
  stop(graceMs?: number): Promise<void>;
}

const KEEP_LINES = 40;

/** Starts a server and resolves once its ready line names a port; rejects if it exits or times out first. */
export function spawnServer(spec: SpawnSpec): Promise<ServerProcess> {
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const recent: string[] = [];
  const remember = (line: string): void => {
    recent.push(line);
    if (recent.length > KEEP_LINES) recent.splice(0, recent.length - KEEP_LINES);
  };
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
  });

  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false;
    const timeoutMs = spec.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      fail(new Error(`${spec.name} did not report its port within ${timeoutMs} ms`));
    }, timeoutMs);

    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      err.message += recent.length > 0 ? `\n--- last output of ${spec.name} ---\n${recent.join('\n')}` : '';
      reject(err);
    };

    const watch = (stream: NodeJS.ReadableStream, isReady: boolean): void => {
      const rl = createInterface({ input: stream });
      rl.on('line', (line) => {
        remember(line);
        if (settled || !isReady) return;
        const info = spec.parseReady(line);
        if (info === null) return;
        settled = true;
        clearTimeout(timer);
        resolve(handle(spec.name, child, info, recent, exited));
      });
    };
    watch(child.stdout!, spec.readyStream === 'stdout');
    watch(child.stderr!, spec.readyStream === 'stderr');

    child.once('error', (err) => fail(new Error(`${spec.name} could not start: ${err.message}`)));
    child.once('exit', (code, signal) => {
      fail(new Error(`${spec.name} exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

function handle(name: string, child: ChildProcess, info: ReadyInfo, recent: string[], exited: Promise<void>): ServerProcess {
  let stopping: Promise<void> | null = null;
  return {
    name,
    pid: child.pid ?? -1,
    port: info.port,
    facts: info.facts,
    recentOutput: () => recent.join('\n'),
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Parses a JSON log line, or returns null when the line is not a JSON object. */
export function jsonLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
