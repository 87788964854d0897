/**
 * One fuzz target in its own process (run.ts starts it with a capped heap):
 *   tsx test/fuzz/child.ts <target> <seconds> <current-input-file> <crash-dir> <seed>
 *
 * 1. replays the issue's big cases (regressions.ts), then every corpus file;
 * 2. fuzzes for <seconds>: mutate a corpus entry, run it, keep it when V8's block coverage
 *    shows something new.
 * Before each run the input is written to <current-input-file>, so that when the process
 * dies (out of heap) or hangs, run.ts still has the input that did it. A violation of the
 * invariant writes the input to <crash-dir> and exits 1.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CoverageFeedback } from './coverage.js';
import { Mutator, Rng } from './mutate.js';
import { regressionsOf, type Regression } from './regressions.js';
import { decodedSize, targetNamed, violation } from './targets.js';

/** Mutated inputs stay below this: big enough for amplification, small enough for speed. */
const MAX_LENGTH = 64 * 1024;
/** A fuzz input this size decoding for longer is a hang (a shared 2-core machine included). */
const SLOW_MS = 2000;
/** The regressions are up to 64 MB; each decodes or is refused in well under a second. */
const SLOW_REGRESSION_MS = 15_000;
/** decodedSize(result) ≤ K × input bytes + C (see targets.ts decodedSize and the property test). */
const K = 64;
const C = 64 * 1024;

const [targetName, secondsArg, currentFile, crashDir, seedArg] = process.argv.slice(2);
const target = targetNamed(targetName);
const seconds = Number(secondsArg);
const rng = new Rng(Number(seedArg));
const corpusDir = join(import.meta.dirname, 'corpus', target.name);

const current = openSync(currentFile, 'w');
let lastBeat = 0;
function beat(phase: string): void {
  const now = Date.now();
  if (now - lastBeat < 500) return;
  lastBeat = now;
  process.send?.({ beat: now, phase });
}

function record(input: Uint8Array): void {
  ftruncateSync(current, 0);
  writeSync(current, input, 0, input.byteLength, 0);
}

/** Why `input` breaks the invariant, or null. */
function check(input: Uint8Array, regression: Regression | null): string | null {
  let result: unknown;
  let error: unknown;
  const t0 = performance.now();
  try {
    result = target.run(input);
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const bad = violation(error);
  if (bad !== null) return bad;
  if (ms > (regression === null ? SLOW_MS : SLOW_REGRESSION_MS)) return `took ${ms.toFixed(0)} ms on ${input.byteLength} bytes`;
  if (regression !== null && regression.refused !== null) {
    if (error === undefined) return `was decoded, expected a 4xx refusal matching ${regression.refused}`;
    if (!regression.refused.test((error as Error).message)) return `was refused for another reason than ${regression.refused} expects: ${(error as Error).message}`;
  }
  const size = decodedSize(result, input);
  if (size > K * input.byteLength + C) return `decoded into ~${size} bytes from ${input.byteLength} input bytes, over ${K}× + ${C}`;
  return null;
}

function crash(input: Uint8Array | null, why: string, what: string): never {
  mkdirSync(crashDir, { recursive: true });
  const stem = join(crashDir, `${target.name}-${createHash('sha1').update(input ?? what).digest('hex').slice(0, 12)}`);
  let file: string;
  if (input !== null) {
    file = `${stem}.bin`;
    writeFileSync(file, input);
  } else {
    file = `${stem}.txt`;
  }
  writeFileSync(`${stem}.txt`, `${target.name}: ${what}\n${why}\n`);
  process.send?.({ crash: relative(process.cwd(), file), why: `${what}: ${why.split('\n')[0]}` });
  closeSync(current);
  process.exit(1);
}

// 1. the cases, then the committed corpus
for (const r of regressionsOf(target.name)) {
  beat(`regression ${r.name}`);
  const input = r.make();
  // a 64 MB case would cost more to write out than to run: its name says how to rebuild it
  record(Buffer.from(`regression: ${r.name}`));
  const bad = check(input, r);
  if (bad !== null) crash(null, bad, `regression "${r.name}" (test/fuzz/regressions.ts)`);
  lastBeat = 0;
}
const corpus: Uint8Array[] = [];
// plain copies: a Buffer's slice() is a view, and the mutator must never write into an entry
for (const f of readdirSync(corpusDir).sort()) corpus.push(new Uint8Array(readFileSync(join(corpusDir, f))));
if (corpus.length === 0) throw new Error(`no seed files in ${corpusDir}; run npm run fuzz:seeds`);

const studied = (url: string) => url.includes('/src/') || url.includes('@bufbuild/protobuf');
const coverage = new CoverageFeedback(studied);
coverage.take();
for (const input of corpus) {
  beat('corpus');
  record(input);
  const bad = check(input, null);
  if (bad !== null) crash(input, bad, 'corpus file');
  coverage.merge(coverage.take());
}
const seeded = corpus.length;

// 2. coverage-guided mutation until the time is up
const mutator = new Mutator(rng, target.dictionary, MAX_LENGTH);
const deadline = performance.now() + seconds * 1000;
let runs = 0;
while (performance.now() < deadline) {
  for (let k = 0; k < 64; k++) {
    // favour the newest entries: they hold what was found last
    const base = rng.below(4) === 0 ? corpus[corpus.length - 1 - rng.below(Math.min(corpus.length, 16))] : rng.pick(corpus);
    const input = mutator.mutate(base, rng.pick(corpus));
    record(input);
    const bad = check(input, null);
    runs++;
    if (bad !== null) crash(input, bad, 'mutated input');
    if (coverage.merge(coverage.take()) > 0 && corpus.length < 20_000) corpus.push(new Uint8Array(input));
  }
  beat('fuzzing');
}
coverage.close();
closeSync(current);
const stats = { target: target.name, seconds, runs, runsPerSecond: Math.round(runs / seconds), seeds: seeded, corpus: corpus.length, features: coverage.seen.size };
process.send?.({ stats });
