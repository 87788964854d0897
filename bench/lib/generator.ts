/**
 * Running a C load generator (wrk, h2load) as a child process: find its binary (or say which
 * Debian package has it), run it to the end, and say what CPU it used: all of it (the
 * `sh` parent's cutime/cstime after the generator exited, see cpu.ts's timedCommand) and its
 * busiest thread's share of a core, from its threads' /proc stat sampled twice inside the run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killOnExit } from '../../src/loadgen/children.js';
import { childrenCpuSeconds, timedCommand } from './cpu.js';
import type { GeneratorCpu } from './load.js';
import { snapshotThreads, splitThreads, type TaskTimes } from './threads.js';

/**
 * The path of `binary` on PATH; throws "<binary> not found: apt-get install <pkg>" when it is
 * not there, so a missing tool stops the bench before any server starts.
 */
export function requireBinary(binary: string, debianPackage: string): string {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (found === '') throw new Error(`${binary} not found: apt-get install ${debianPackage} (the bench drives its load with it; see bench/README.md)`);
  return found;
}

export interface GeneratorSpec {
  /** for the report, e.g. "wrk -t2" */
  name: string;
  binary: string;
  args: readonly string[];
  /** load threads (-t) */
  threads: number;
  /** how long the run should take, seconds: the threads are sampled inside it */
  seconds: number;
}

export interface GeneratorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  cpu: GeneratorCpu;
}

/** How far into the run (and before its end) the threads are sampled, seconds. */
const SAMPLE_MARGIN_S = 0.5;

/** Runs the generator to its end; never rejects on a failed run (the exit code says). */
export function runGenerator(spec: GeneratorSpec): Promise<GeneratorRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-gen-'));
  const statFile = path.join(dir, 'stat');
  const started = performance.now();
  const child = spawn('sh', timedCommand(statFile, spec.binary, spec.args), { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  // the run's middle: from SAMPLE_MARGIN_S in to SAMPLE_MARGIN_S before its end (a quarter of a short run)
  const margin = Math.min(SAMPLE_MARGIN_S, spec.seconds / 4);
  let first: { at: number; threads: TaskTimes[] } | null = null;
  let busiest: number | null = null;
  const sample = (): { at: number; threads: TaskTimes[] } | null => {
    const threads = child.pid === undefined ? null : snapshotThreads(child.pid);
    return threads === null ? null : { at: performance.now(), threads };
  };
  const t1 = setTimeout(() => {
    first = sample();
  }, margin * 1000);
  const t2 = setTimeout(
    () => {
      const second = sample();
      if (first === null || second === null || child.pid === undefined) return;
      const s = splitThreads(child.pid, first.threads, second.threads);
      const wall = (second.at - first.at) / 1000;
      // the sh parent only waits; the busiest thread is the generator's
      const load = s.threads.filter((t) => t.pid !== child.pid);
      if (wall > 0) busiest = (load.length === 0 ? 0 : load[0].seconds) / wall;
    },
    Math.max(margin * 2, spec.seconds - margin) * 1000,
  );
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(t1);
      clearTimeout(t2);
      const wallSeconds = (performance.now() - started) / 1000;
      let seconds: number | null = null;
      try {
        seconds = childrenCpuSeconds(readFileSync(statFile, 'utf8'));
      } catch {
        // no /proc: no CPU numbers
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        cpu: { name: spec.name, threads: spec.threads, seconds, wallSeconds, busiestThread: busiest },
      });
    });
  });
}
