/**
 * The built gateway (`bin/switchyard.js serve --config <file>`) as a child process, for the
 * runs that drive it from outside (test/chaos, test/cluster): started, its stdout and stderr
 * kept in a file, its exit awaited. Needs `npm run build` first (the CLI runs from dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BIN, ROOT, cleanEnv } from './cli.js';

export interface GatewayExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() ms of the runner */
  readonly at: number;
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:<port> */
  readonly http: string;
  /** 127.0.0.1:<port> */
  readonly grpc: string;
  readonly exited: Promise<GatewayExit>;
}

/** Starts `switchyard serve --config <config>` and resolves once it logs where it listens. */
export function serveGateway(config: string, env: Record<string, string>, logPath: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logPath);
  child.stdout!.pipe(out);
  const exited = new Promise<GatewayExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      out.write(d);
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const rec = JSON.parse(line) as { msg?: string; http?: string; grpc?: string };
          if (rec.msg === 'switchyard listening' && rec.http !== undefined && rec.grpc !== undefined) {
            resolve({ child, http: `http://127.0.0.1:${rec.http.split(':').pop()}`, grpc: `127.0.0.1:${rec.grpc.split(':').pop()}`, exited });
          }
        } catch {
          // not a log line
        }
      }
    });
    void exited.then((e) => reject(new Error(`the gateway exited before it listened (code ${e.code}); its log: ${logPath}`)));
  });
}

/** True while the process has not exited. */
export function running(g: GatewayProcess): boolean {
  return g.child.exitCode === null && g.child.signalCode === null;
}

/** One admin (or any JSON) call; `actor` goes in x-switchyard-actor. */
export async function adminCall(url: string, method: string, body?: unknown, actor = 'test'): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json', 'x-switchyard-actor': actor }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}

/** The warn and error lines of a gateway's log (JSON lines), the last `n`. */
export function seriousLines(log: string, n = 20): { total: number; last: string[] } {
  const serious = log.split('\n').filter((l) => /"level":"(warn|error)"/.test(l));
  return { total: serious.length, last: serious.slice(-n).map((l) => l.slice(0, 400)) };
}
