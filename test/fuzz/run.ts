/**
 * `npm run test:fuzz`: every fuzz target for a bounded time, each in a child process with a
 * capped heap (child.ts), two at a time. Exits 1 when any target crashed, hung or ran out of
 * heap, and names the file holding the input that did it.
 *
 *   npm run test:fuzz                          every target, FUZZ_SECONDS (default 30) each
 *   npm run test:fuzz -- --seconds 300 rest-json   longer, one target
 *   npm run test:fuzz -- --repro grpc-infer test/fuzz/crashes/grpc-infer-….bin
 *
 * FUZZ_SEED fixes the mutation seed (else one per run, printed, so a run can be repeated).
 */
import { fork } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TARGETS, targetNamed, violation } from './targets.js';

const HERE = import.meta.dirname;
const CRASH_DIR = join(HERE, 'crashes');
/**
 * Heap of each child. The regressions need far more than this when a bound is lost (1.7 GB
 * and up, see regressions.ts) and far less when it holds: the largest refused case peaks
 * at ~200 MB (JSON.parse of 2^23 "" elements, before the decoder refuses them).
 */
const HEAP_MB = Number(process.env.FUZZ_HEAP_MB ?? 384);
/** No heartbeat from a child for this long is a hang. */
const HANG_MS = 30_000;

interface Outcome {
  target: string;
  ok: boolean;
  line: string;
}

function repro(name: string, file: string): number {
  const t = targetNamed(name);
  const input = readFileSync(file);
  let error: unknown;
  const t0 = performance.now();
  try {
    t.run(input);
  } catch (e) {
    error = e;
  }
  const ms = (performance.now() - t0).toFixed(1);
  const bad = violation(error);
  console.log(bad === null ? `${name}: ${file} keeps the invariant (${error === undefined ? 'decoded' : `refused: ${(error as Error).message}`}) in ${ms} ms` : `${name}: ${file}: ${bad}`);
  return bad === null ? 0 : 1;
}

function runTarget(target: string, seconds: number, seed: number, scratch: string): Promise<Outcome> {
  const currentFile = join(scratch, `${target}.current`);
  const child = fork(join(HERE, 'child.ts'), [target, String(seconds), currentFile, CRASH_DIR, String(seed)], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${HEAP_MB}`],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let lastBeat = Date.now();
  let phase = 'starting';
  let crashLine: string | null = null;
  let statsLine: string | null = null;
  let hung = false;
  child.on('message', (m: { beat?: number; phase?: string; crash?: string; why?: string; stats?: Record<string, unknown> }) => {
    if (m.beat !== undefined) {
      lastBeat = Date.now();
      phase = m.phase ?? phase;
    }
    if (m.crash !== undefined) crashLine = `${m.why}\n    input: ${m.crash}`;
    if (m.stats !== undefined) {
      const s = m.stats;
      statsLine = `${s.runs} runs (${s.runsPerSecond}/s) in ${s.seconds} s, corpus ${s.seeds} → ${s.corpus}, ${s.features} coverage features`;
    }
  });
  const watchdog = setInterval(() => {
    if (Date.now() - lastBeat > HANG_MS) {
      hung = true;
      child.kill('SIGKILL');
    }
  }, 1000);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(watchdog);
      if (code === 0 && statsLine !== null) return resolve({ target, ok: true, line: statsLine });
      if (crashLine !== null) return resolve({ target, ok: false, line: crashLine });
      // died without reporting (out of heap, a native fault) or hung: keep what it was running
      mkdirSync(CRASH_DIR, { recursive: true });
      const saved = join(CRASH_DIR, `${target}-${hung ? 'hang' : 'died'}-${Date.now()}.bin`);
      if (existsSync(currentFile)) copyFileSync(currentFile, saved);
      const why = hung ? `no progress for ${HANG_MS / 1000} s (${phase})` : `the process died (${signal ?? `exit code ${code}`}) during ${phase}; its heap was capped at ${HEAP_MB} MB`;
      const tail = stderr.trim().split('\n').slice(-6).join('\n      ');
      resolve({ target, ok: false, line: `${why}\n    input: ${relative(process.cwd(), saved)}${tail === '' ? '' : `\n      ${tail}`}` });
    });
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args[0] === '--repro') return repro(args[1], args[2]);
  let seconds = Number(process.env.FUZZ_SECONDS ?? 30);
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--seconds') seconds = Number(args[++i]);
    else names.push(args[i]);
  }
  const targets = names.length > 0 ? names.map((n) => targetNamed(n).name) : TARGETS.map((t) => t.name);
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const parallel = Math.max(1, Math.min(2, availableParallelism()));
  console.log(`fuzzing ${targets.join(', ')}: ${seconds} s each, ${parallel} at a time, heap ${HEAP_MB} MB each, FUZZ_SEED=${seed}`);
  const scratch = mkdtempSync(join(tmpdir(), 'switchyard-fuzz-'));
  const t0 = performance.now();
  const outcomes: Outcome[] = [];
  const queue = [...targets];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
        const o = await runTarget(t, seconds, seed, scratch);
        console.log(`  ${o.ok ? 'ok  ' : 'FAIL'} ${o.target}: ${o.line}`);
        outcomes.push(o);
      }
    }),
  );
  rmSync(scratch, { recursive: true, force: true });
  const failed = outcomes.filter((o) => !o.ok);
  console.log(`fuzzing took ${((performance.now() - t0) / 1000).toFixed(1)} s; ${failed.length === 0 ? 'no crashes' : `${failed.length} target(s) failed`}`);
  if (failed.length > 0) console.log('reproduce with: npm run test:fuzz -- --repro <target> <input file> (regressions: the case is named in test/fuzz/regressions.ts)');
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main();
