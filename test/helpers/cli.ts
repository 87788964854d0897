/** Runs the real CLI (bin/switchyard.js) as a child process, for tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** This process's environment without SWITCHYARD_* variables (but `extra`'s). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHYARD_') && !(k in extra)) delete env[k];
  return env;
}

/**
 * Resolves with the HTTP port once a gateway child logs "switchyard listening" (every stderr
 * line is pushed to `logs`); rejects when it exits first or after `timeoutMs`.
 */
export function listeningPort(child: ChildProcess, logs: string[], timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "switchyard listening" in ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const rec = JSON.parse(line) as { msg?: string; http?: string };
          if (rec.msg === 'switchyard listening' && rec.http !== undefined) {
            clearTimeout(timer);
            resolve(Number(rec.http.split(':').pop()));
          }
        } catch {
          // not a JSON log line (ONNX Runtime writes its own)
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code}:\n${logs.join('\n')}`));
    });
  });
}

/** Starts `switchyard serve` and resolves with the HTTP port once it logs that it listens. */
export async function serve(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number; logs: string[] }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  return { child, port: await listeningPort(child, logs), logs };
}
