/**
 * `switchyard score` holds a bounded window of rows, whatever the file's size: a 1M-row
 * JSONL file (112 MB in, ~190 MB out) scores to the end with the main heap capped at 48 MB
 * (--max-old-space-size=48; the answers alone would need several times that if they were
 * held), and the process's RSS, sampled from /proc while it runs, stays under a fixed bound
 * and does not climb from the first quarter of the run to the last.
 * Measured on 2 shared cores: 1,000,000 rows in 40 s (about 25,000 rows/s), peak RSS 357 MiB
 * (ONNX Runtime and the worker threads are most of it).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BIN, ROOT, cleanEnv } from '../helpers/cli.js';
import { EXAMPLE_MODELS } from '../helpers/server.js';

const ROWS = Number(process.env.SCORE_MEMORY_ROWS ?? 1_000_000);
const HEAP_MB = 48;
/** peak RSS allowed (MiB): 357 measured, ORT's arenas and two workers included */
const RSS_BOUND_MIB = 600;
/** the last quarter's highest sample may exceed the first quarter's by this fraction at most */
const GROWTH = 0.25;

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-score-rss-'));
  writeFileSync(join(dir, 'switchyard.yaml'), stringify({ model_repository: EXAMPLE_MODELS, log_level: 'error', request_log: { sinks: [] } }));
  const out = createWriteStream(join(dir, 'in.jsonl'));
  let s = 1;
  const next = (): string => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 4 - 2).toFixed(3);
  };
  for (let i = 0; i < ROWS; i++) {
    let line = '{"x":[' + next();
    for (let j = 1; j < 16; j++) line += ',' + next();
    if (!out.write(line + ']}\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

it(`scores ${ROWS} rows with a ${HEAP_MB} MB heap, RSS bounded and flat`, async () => {
  const output = join(dir, 'out.jsonl');
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, BIN, 'score', '--config', join(dir, 'switchyard.yaml'), '-m', 'tabular', '--model-version', '1', '-i', join(dir, 'in.jsonl'), '-o', output], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const samples: number[] = [];
  const timer = setInterval(() => {
    const r = rssMiB(child.pid!);
    if (r !== null) samples.push(r);
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  expect(code, stderr).toBe(0);
  expect(stderr).toContain(`done, ${ROWS} rows: ${ROWS} ok, 0 failed`);

  // every row once, in order
  let expected = 1;
  for await (const line of createInterface({ input: createReadStream(output) })) {
    expect(line.startsWith(`{"row":${expected},`)).toBe(true);
    expected++;
  }
  expect(expected - 1).toBe(ROWS);

  const peak = Math.max(...samples);
  const q = Math.max(1, Math.floor(samples.length / 4));
  const first = Math.max(...samples.slice(0, q));
  const last = Math.max(...samples.slice(-q));
  process.stderr.write(`score RSS: peak ${peak.toFixed(0)} MiB, first quarter ${first.toFixed(0)}, last quarter ${last.toFixed(0)} (${samples.length} samples)\n`);
  expect(peak).toBeLessThan(RSS_BOUND_MIB);
  expect(last).toBeLessThan(first * (1 + GROWTH));
}, 300_000);
